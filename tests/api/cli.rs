//! The `content-api` binary: import summary and exit code, schema output.

use std::process::Command;

use crate::helpers::samples_dir;

fn bin() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_content-api"));
    cmd.env_remove("DATABASE_URL").env("RUST_LOG", "error");
    cmd
}

#[test]
fn import_prints_a_summary_and_fails_when_a_file_fails() {
    // Arrange
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.md");
    std::fs::write(&bad, "# Title only\n").unwrap();
    let db = format!("sqlite://{}?mode=rwc", dir.path().join("cli.db").display());

    // Act
    let out = bin()
        .args(["import", "--database-url", &db])
        .arg(samples_dir())
        .arg(&bad)
        .output()
        .unwrap();

    // Assert
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stdout.contains("imported 4, updated 0, failed 1"),
        "{stdout}"
    );
    assert!(
        stderr.contains("bad.md") && stderr.contains("metadata"),
        "{stderr}"
    );

    // Re-running the good files succeeds and changes nothing.
    let again = bin()
        .args(["import", "--database-url", &db])
        .arg(samples_dir())
        .output()
        .unwrap();
    assert!(again.status.success());
    assert!(String::from_utf8_lossy(&again.stdout).contains("imported 0, updated 0, failed 0"));
}

#[test]
fn schema_command_prints_the_committed_schema() {
    let out = bin().arg("schema").output().unwrap();
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        content_api::graphql::schema_sdl()
    );
}

#[test]
fn migrate_status_lists_every_migration() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}?mode=rwc", dir.path().join("m.db").display());
    let out = bin()
        .args(["migrate", "up", "--database-url", &db])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let status = bin()
        .args(["migrate", "status", "--database-url", &db])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&status.stdout);
    let all = <migration::Migrator as migration::MigratorTrait>::migrations().len();
    assert!(all >= 5);
    assert_eq!(
        text.lines().filter(|l| l.starts_with("Applied")).count(),
        all,
        "{text}"
    );
}

#[test]
fn keys_create_prints_the_token_once_and_list_and_revoke_manage_it() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}?mode=rwc", dir.path().join("k.db").display());
    let run = |args: &[&str]| {
        let out = bin()
            .args(args)
            .args(["--database-url", &db])
            .output()
            .unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
        )
    };

    let (ok, token) = run(&["keys", "create", "--role", "editor", "--name", "desk"]);
    let token = token.trim().to_owned();
    assert!(ok && token.starts_with("cak_"), "{token}");

    let (ok, list) = run(&["keys", "list"]);
    assert!(ok);
    assert!(
        list.contains("editor") && list.contains("desk") && list.contains("active"),
        "{list}"
    );
    assert!(
        !list.contains(&token),
        "the full token must never be shown again"
    );

    let (ok, _) = run(&["keys", "revoke", "1"]);
    assert!(ok);
    let (_, list) = run(&["keys", "list"]);
    assert!(list.contains("revoked"), "{list}");

    let (ok, _) = run(&["keys", "create", "--role", "author"]);
    assert!(!ok, "an author key without --author is refused");
}

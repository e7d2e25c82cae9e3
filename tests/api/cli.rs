//! The `content-api` binary: import summary, progress and exit code, schema output, and a
//! server stopped with SIGTERM.

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
    // Not a terminal: no progress bar, nothing but the failure lines.
    assert!(
        stderr.lines().all(|l| l.starts_with("error: ")),
        "{stderr:?}"
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

/// `import` on a terminal (a pseudo-terminal made by util-linux `script`) draws a progress bar,
/// then clears it for the usual summary.
#[cfg(target_os = "linux")]
#[test]
fn import_shows_a_progress_bar_on_a_terminal() {
    // Arrange
    if Command::new("script").arg("--version").output().is_err() {
        assert!(
            std::env::var_os("CI").is_none(),
            "`script` (util-linux) is needed in CI"
        );
        eprintln!("skipped: `script` is not installed");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}?mode=rwc", dir.path().join("tty.db").display());
    let command = format!(
        "'{}' import --database-url '{db}' '{}'",
        env!("CARGO_BIN_EXE_content-api"),
        samples_dir().display()
    );

    // Act
    let out = Command::new("script")
        .args(["--quiet", "--return", "--command", &command, "/dev/null"])
        .env_remove("DATABASE_URL")
        .env("RUST_LOG", "error")
        .env("TERM", "xterm")
        .output()
        .unwrap();

    // Assert
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert!(text.contains("/4 files"), "no progress bar in {text:?}");
    let last = text
        .rsplit(['\r', '\n'])
        .find(|l| !l.is_empty())
        .unwrap_or_default();
    assert_eq!(
        last.trim_start_matches("\x1b[2K"),
        "imported 4, updated 0, failed 0",
        "{text:?}"
    );
}

/// Graceful shutdown of the real server process.
#[cfg(unix)]
mod shutdown {
    use std::{
        io::{BufRead as _, BufReader, Read as _, Write as _},
        net::{SocketAddr, TcpStream},
        process::{Child, ExitStatus, Stdio},
        sync::mpsc::{self, Receiver},
        time::{Duration, Instant},
    };

    use super::bin;

    /// Generous: these bound how long a step may take on a loaded machine, not how long it
    /// should.
    const PATIENCE: Duration = Duration::from_secs(60);

    const BODY: &str = r#"{"query":"{ __typename }"}"#;

    /// A server process on a free port, with its JSON log lines.
    struct Server {
        child: Child,
        addr: SocketAddr,
        logs: Receiver<serde_json::Value>,
        _dir: tempfile::TempDir,
    }

    impl Server {
        fn start(grace_secs: u64) -> Self {
            let dir = tempfile::tempdir().unwrap();
            let db = format!("sqlite://{}?mode=rwc", dir.path().join("s.db").display());
            let mut child = bin()
                .args(["serve", "--database-url", &db, "--bind", "127.0.0.1:0"])
                .env("RUST_LOG", "info")
                .env("LOG_FORMAT", "json")
                .env("REQUEST_TIMEOUT_SECS", "600")
                .env("SHUTDOWN_GRACE_SECS", grace_secs.to_string())
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap();
            let stderr = child.stderr.take().unwrap();
            let (tx, logs) = mpsc::channel();
            std::thread::spawn(move || {
                for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                    if let Ok(json) = serde_json::from_str(&line) {
                        let _ = tx.send(json);
                    }
                }
            });
            let mut server = Self {
                child,
                addr: SocketAddr::from(([127, 0, 0, 1], 0)),
                logs,
                _dir: dir,
            };
            let serving = server.wait_for_log("serving GraphQL on");
            let url = serving["fields"]["message"].as_str().unwrap();
            server.addr = url
                .split("http://")
                .nth(1)
                .and_then(|rest| rest.split('/').next())
                .and_then(|addr| addr.parse().ok())
                .unwrap_or_else(|| panic!("no address in {url:?}"));
            server
        }

        /// The first log line whose message starts with `prefix`.
        fn wait_for_log(&self, prefix: &str) -> serde_json::Value {
            let deadline = Instant::now() + PATIENCE;
            loop {
                let left = deadline.saturating_duration_since(Instant::now());
                let line = self
                    .logs
                    .recv_timeout(left)
                    .unwrap_or_else(|_| panic!("no log line starting {prefix:?}"));
                if line["fields"]["message"]
                    .as_str()
                    .is_some_and(|m| m.starts_with(prefix))
                {
                    return line;
                }
            }
        }

        /// Opens a POST whose headers are read and whose body the handler is waiting for: the
        /// server's `100 Continue` proves the request is in flight.
        fn start_request(&self) -> TcpStream {
            let mut conn = TcpStream::connect(self.addr).unwrap();
            conn.set_read_timeout(Some(PATIENCE)).unwrap();
            write!(
                conn,
                "POST /graphql HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n\
                 Content-Length: {}\r\nExpect: 100-continue\r\n\r\n",
                BODY.len()
            )
            .unwrap();
            let interim = read_head(&mut conn);
            assert!(interim.starts_with("HTTP/1.1 100"), "{interim:?}");
            conn
        }

        fn terminate(&self) {
            let status = std::process::Command::new("kill")
                .args(["-TERM", &self.child.id().to_string()])
                .status()
                .unwrap();
            assert!(status.success());
        }

        /// Waits (at most `PATIENCE`) for the process to exit.
        fn wait_exit(&mut self) -> ExitStatus {
            let deadline = Instant::now() + PATIENCE;
            loop {
                if let Some(status) = self.child.try_wait().unwrap() {
                    return status;
                }
                assert!(Instant::now() < deadline, "the server did not exit");
                std::thread::sleep(Duration::from_millis(20));
            }
        }

        /// Waits until connecting is refused: the listener is closed.
        fn wait_until_refused(&self) {
            let deadline = Instant::now() + PATIENCE;
            loop {
                match TcpStream::connect(self.addr) {
                    Err(e) if e.kind() == std::io::ErrorKind::ConnectionRefused => return,
                    _ => {}
                }
                assert!(
                    Instant::now() < deadline,
                    "new connections are still accepted"
                );
                std::thread::sleep(Duration::from_millis(20));
            }
        }
    }

    impl Drop for Server {
        fn drop(&mut self) {
            // Only when a test failed half-way; a passing test has already seen the exit.
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }

    /// Reads a response head (up to the blank line).
    fn read_head(conn: &mut TcpStream) -> String {
        let mut head = Vec::new();
        let mut byte = [0u8];
        while !head.ends_with(b"\r\n\r\n") {
            match conn.read(&mut byte) {
                Ok(1) => head.push(byte[0]),
                other => panic!("connection ended in a head ({other:?}): {head:?}"),
            }
        }
        String::from_utf8_lossy(&head).into_owned()
    }

    #[test]
    fn sigterm_finishes_in_flight_requests_refuses_new_ones_and_exits_0() {
        // Arrange: a request in flight.
        let mut server = Server::start(30);
        let mut in_flight = server.start_request();

        // Act
        server.terminate();
        server.wait_for_log("shutting down");

        // Assert: no new connections, while the in-flight request still completes.
        server.wait_until_refused();
        in_flight.write_all(BODY.as_bytes()).unwrap();
        let mut response = String::new();
        in_flight.read_to_string(&mut response).unwrap();
        assert!(response.starts_with("HTTP/1.1 200"), "{response}");
        assert!(
            response.ends_with(r#"{"data":{"__typename":"Query"}}"#),
            "{response}"
        );
        let status = server.wait_exit();
        assert!(status.success(), "{status:?}");
    }

    #[test]
    fn sigterm_exits_0_after_the_grace_period_when_a_request_hangs() {
        // Arrange: a request whose body never comes, and a one-second grace period.
        let mut server = Server::start(1);
        let mut hanging = server.start_request();

        // Act
        let signalled = Instant::now();
        server.terminate();
        let status = server.wait_exit();

        // Assert: it waited for the grace period, then exited cleanly, cutting the request off.
        assert!(status.success(), "{status:?}");
        assert!(
            signalled.elapsed() >= Duration::from_millis(900),
            "exited before the grace period: {:?}",
            signalled.elapsed()
        );
        server.wait_for_log("in-flight requests did not finish");
        let mut rest = Vec::new();
        let _ = hanging.read_to_end(&mut rest);
        assert!(
            !String::from_utf8_lossy(&rest).contains("200 OK"),
            "{rest:?}"
        );
    }
}

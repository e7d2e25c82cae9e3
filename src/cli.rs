//! The `content-api` command line: serve (default), migrate, import, schema.

use std::{path::PathBuf, process::ExitCode};

use anyhow::Context as _;
use clap::{Parser, Subcommand, ValueEnum};
use migration::{Migrator, MigratorTrait};

use entity::api_key::Role;

use crate::{config::Config, db, domain::auth, graphql, http, import};

/// A GraphQL content API for articles, authors and tags.
#[derive(Parser)]
#[command(name = "content-api", version, about)]
pub struct Cli {
    /// What to do; `serve` when omitted.
    #[command(subcommand)]
    pub command: Option<Command>,
    /// Settings shared by every command.
    #[command(flatten)]
    pub config: Config,
}

/// Subcommands.
#[derive(Subcommand)]
pub enum Command {
    /// Serve the API over HTTP (the default).
    Serve,
    /// Manage the database schema.
    Migrate {
        /// `up` applies pending migrations, `down` reverts the last one, `status` lists them,
        /// `fresh` drops every table and migrates from scratch.
        #[arg(value_enum, default_value_t = MigrateAction::Up)]
        action: MigrateAction,
    },
    /// Import sample-format markdown files (files or folders, searched for *.md).
    Import {
        /// Files or folders.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
    },
    /// Print the GraphQL schema (SDL).
    Schema,
    /// Manage API keys.
    Keys {
        /// What to do with keys.
        #[command(subcommand)]
        action: KeysAction,
    },
}

/// `keys` actions.
#[derive(Subcommand)]
pub enum KeysAction {
    /// Create a key and print its token (shown once; only a hash is stored).
    Create {
        /// What the key may do.
        #[arg(long, value_enum)]
        role: KeyRole,
        /// The author an author key writes as (its slug).
        #[arg(long)]
        author: Option<String>,
        /// A label, to recognise the key in `keys list`.
        #[arg(long, default_value = "")]
        name: String,
    },
    /// List keys (id, role, author, name, token prefix, state).
    List,
    /// Revoke a key: its token is refused from now on.
    Revoke {
        /// The key's id (see `keys list`).
        id: i32,
    },
}

/// Roles a key can have.
#[derive(Clone, Copy, ValueEnum)]
pub enum KeyRole {
    /// Everything, including authors, tags and keys.
    Admin,
    /// All content, including publishing.
    Editor,
    /// Its own articles only (needs --author).
    Author,
}

/// `migrate` actions.
#[derive(Clone, Copy, ValueEnum)]
pub enum MigrateAction {
    /// Apply pending migrations.
    Up,
    /// Revert the last applied migration.
    Down,
    /// List migrations and whether each is applied.
    Status,
    /// Drop everything and apply all migrations.
    Fresh,
}

/// Runs the parsed command line.
pub async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let config = cli.config;
    if matches!(
        cli.command,
        None | Some(Command::Serve | Command::Import { .. })
    ) {
        crate::domain::search::configure(config.search_user_dict.as_deref())
            .map_err(|e| anyhow::anyhow!("search dictionary: {e}"))?;
    }
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => {
            http::server::serve(config).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Schema => {
            print!("{}", graphql::schema_sdl());
            Ok(ExitCode::SUCCESS)
        }
        Command::Migrate { action } => {
            migrate(&config, action).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Keys { action } => keys(&config, action).await,
        Command::Import { paths } => {
            let opened = db::open(&config).await?;
            let report = match import::progress::Bar::on_terminal() {
                Some(bar) => import::import_paths_with(&opened.db, &paths, &bar).await,
                None => import::import_paths(&opened.db, &paths).await,
            };
            for failure in &report.failures {
                eprintln!("error: {failure}");
            }
            if report.imported + report.updated > 0 {
                // Running servers (on Postgres) drop the responses they keep.
                crate::domain::live::Hub::new(&opened.db)
                    .publish(crate::domain::live::Event::Changed)
                    .await;
            }
            println!("{report}");
            Ok(if report.failures.is_empty() {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            })
        }
    }
}

async fn keys(config: &Config, action: KeysAction) -> anyhow::Result<ExitCode> {
    let db = db::open(config).await?.db;
    let fail = |e: crate::error::AppError| {
        eprintln!("error: {}", db::describe(&e));
        Ok(ExitCode::FAILURE)
    };
    match action {
        KeysAction::Create { role, author, name } => {
            let role = match role {
                KeyRole::Admin => Role::Admin,
                KeyRole::Editor => Role::Editor,
                KeyRole::Author => Role::Author,
            };
            match auth::create_key(&db, role, author.as_deref(), &name).await {
                Ok((key, token)) => {
                    eprintln!(
                        "created key {} ({:?}); the token is shown only now:",
                        key.id, key.role
                    );
                    println!("{token}");
                }
                Err(e) => return fail(e),
            }
        }
        KeysAction::List => match auth::list_keys(&db).await {
            Ok(keys) => {
                println!(
                    "{:<5} {:<7} {:<7} {:<12} {:<8} name",
                    "id", "role", "author", "token", "state"
                );
                for k in keys {
                    let state = if k.revoked_at.is_some() {
                        "revoked"
                    } else {
                        "active"
                    };
                    let author = k
                        .author_id
                        .map(|a| a.to_string())
                        .unwrap_or_else(|| "-".into());
                    let role = format!("{:?}", k.role).to_lowercase();
                    println!(
                        "{:<5} {:<7} {:<7} {:<12} {:<8} {}",
                        k.id,
                        role,
                        author,
                        format!("{}…", k.token_prefix),
                        state,
                        k.name
                    );
                }
            }
            Err(e) => return fail(e),
        },
        KeysAction::Revoke { id } => match auth::revoke_key(&db, id).await {
            Ok(k) => println!("revoked key {}", k.id),
            Err(e) => return fail(e),
        },
    }
    Ok(ExitCode::SUCCESS)
}

async fn migrate(config: &Config, action: MigrateAction) -> anyhow::Result<()> {
    let db = db::open_unmigrated(config).await?.db;
    match action {
        MigrateAction::Up => Migrator::up(&db, None).await.context("migrate up")?,
        MigrateAction::Down => Migrator::down(&db, Some(1)).await.context("migrate down")?,
        MigrateAction::Fresh => Migrator::fresh(&db).await.context("migrate fresh")?,
        MigrateAction::Status => {}
    }
    for m in Migrator::get_migration_with_status(&db)
        .await
        .context("read migration status")?
    {
        println!("{:<10} {}", format!("{:?}", m.status()), m.name());
    }
    Ok(())
}

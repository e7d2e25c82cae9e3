//! The `content-api` command line: serve (default), migrate, import, schema.

use std::{path::PathBuf, process::ExitCode};

use anyhow::Context as _;
use clap::{Parser, Subcommand, ValueEnum};
use migration::{Migrator, MigratorTrait};

use crate::{config::Config, db, graphql, http, import};

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
        Command::Import { paths } => {
            let opened = db::open(&config).await?;
            let report = import::import_paths(&opened.db, &paths).await;
            for failure in &report.failures {
                eprintln!("error: {failure}");
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

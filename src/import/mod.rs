//! Bulk import of sample-format markdown files. Reads and parses files, then hands each article
//! to the domain upsert in its own transaction; a bad file is reported and skipped.

pub mod parse;
pub mod progress;

use std::{
    fmt,
    path::{Path, PathBuf},
};

use chrono::{NaiveTime, TimeZone, Utc};
use sea_orm::{DatabaseConnection, TransactionTrait};

use crate::{
    db,
    domain::article::{ImportedArticle, UpsertOutcome, upsert_imported},
};
use parse::ParsedArticle;
use progress::ImportProgress;

/// Largest file the importer reads; anything bigger is refused as not an article.
pub const MAX_FILE_BYTES: u64 = 8 * 1024 * 1024;

/// What an import run did.
#[derive(Debug, Default)]
pub struct ImportReport {
    /// Articles created.
    pub imported: usize,
    /// Articles that existed and changed.
    pub updated: usize,
    /// Articles that existed unchanged.
    pub unchanged: usize,
    /// Files that could not be imported, with the reason.
    pub failures: Vec<ImportFailure>,
}

/// One file that could not be imported.
#[derive(Debug)]
pub struct ImportFailure {
    /// The file.
    pub path: PathBuf,
    /// What is wrong (with a line number when the content is at fault).
    pub reason: String,
}

impl fmt::Display for ImportFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path.display(), self.reason)
    }
}

impl fmt::Display for ImportReport {
    /// `imported N, updated M, failed K` (and the unchanged count when there is one).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "imported {}, updated {}, failed {}",
            self.imported,
            self.updated,
            self.failures.len()
        )?;
        if self.unchanged > 0 {
            write!(f, ", unchanged {}", self.unchanged)?;
        }
        Ok(())
    }
}

/// The markdown files named by `paths`: files as given, folders searched recursively for
/// `*.md`, in a stable order. A path that does not exist is reported as a failure.
pub fn collect_files(paths: &[PathBuf], failures: &mut Vec<ImportFailure>) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for path in paths {
        if path.is_dir() {
            walk(path, &mut files, failures);
        } else if path.is_file() {
            files.push(path.clone());
        } else {
            failures.push(ImportFailure {
                path: path.clone(),
                reason: "no such file or folder".into(),
            });
        }
    }
    files
}

fn walk(dir: &Path, files: &mut Vec<PathBuf>, failures: &mut Vec<ImportFailure>) {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) => {
            failures.push(ImportFailure {
                path: dir.to_path_buf(),
                reason: format!("cannot read folder: {e}"),
            });
            return;
        }
    };
    let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    for p in paths {
        if p.is_dir() {
            walk(&p, files, failures);
        } else if p.extension().is_some_and(|e| e.eq_ignore_ascii_case("md")) {
            files.push(p);
        }
    }
}

/// Imports every markdown file under `paths`, one transaction per article.
pub async fn import_paths(db: &DatabaseConnection, paths: &[PathBuf]) -> ImportReport {
    import_paths_with(db, paths, &progress::Silent).await
}

/// Like [`import_paths`], telling `progress` about each file. Failures are only collected in
/// the report: callers print or log them (a log line would tear a progress bar).
pub async fn import_paths_with(
    db: &DatabaseConnection,
    paths: &[PathBuf],
    progress: &dyn ImportProgress,
) -> ImportReport {
    let mut report = ImportReport::default();
    let files = collect_files(paths, &mut report.failures);
    progress.start(files.len());
    for file in files {
        progress.file(&file);
        match import_file(db, &file).await {
            Ok(UpsertOutcome::Created) => report.imported += 1,
            Ok(UpsertOutcome::Updated) => report.updated += 1,
            Ok(UpsertOutcome::Unchanged) => report.unchanged += 1,
            Err(reason) => report.failures.push(ImportFailure { path: file, reason }),
        }
        progress.done();
    }
    progress.finish();
    report
}

/// Imports one file; the error is the reason, for the report.
pub async fn import_file(db: &DatabaseConnection, path: &Path) -> Result<UpsertOutcome, String> {
    let text = read_text(path)?;
    let parsed = parse::parse_article(&text).map_err(|e| e.to_string())?;
    let article = to_domain(parsed);
    let txn = db.begin().await.map_err(|e| format!("database: {e}"))?;
    match upsert_imported(&txn, &article).await {
        Ok((_, outcome)) => {
            txn.commit().await.map_err(|e| format!("database: {e}"))?;
            Ok(outcome)
        }
        Err(e) => {
            // Dropping the transaction rolls it back; say so explicitly for clarity.
            let _ = txn.rollback().await;
            Err(db::describe(&e))
        }
    }
}

fn read_text(path: &Path) -> Result<String, String> {
    let meta = std::fs::metadata(path).map_err(|e| format!("cannot read file: {e}"))?;
    if meta.len() > MAX_FILE_BYTES {
        return Err(format!(
            "file is {} bytes; the limit is {MAX_FILE_BYTES}",
            meta.len()
        ));
    }
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read file: {e}"))?;
    String::from_utf8(bytes).map_err(|e| {
        format!(
            "not UTF-8 text (invalid byte at offset {})",
            e.utf8_error().valid_up_to()
        )
    })
}

/// The publication date is a calendar day; it is stored as midnight UTC of that day.
fn to_domain(p: ParsedArticle) -> ImportedArticle {
    let published_at = Utc.from_utc_datetime(&p.published_on.and_time(NaiveTime::MIN));
    ImportedArticle {
        title: p.title,
        category: p.category,
        author_name: p.author_name,
        author_profile_url: p.author_profile_url,
        published_at,
        views: p.views,
        comments: p.comments,
        collects: p.collects,
        likes: p.likes,
        reading_time_minutes: p.reading_time_minutes,
        tags: p.tags,
        original_url: p.original_url,
        summary: p.summary,
        cover_image_url: p.cover_image_url,
        body: p.body,
    }
}

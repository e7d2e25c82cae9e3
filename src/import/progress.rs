//! Progress of an import run: a bar on stderr when it is a terminal, nothing otherwise (pipes
//! and log files get only the summary).

use std::{io::IsTerminal as _, path::Path, time::Duration};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Told about an import run as it goes.
pub trait ImportProgress {
    /// `total` files are about to be imported.
    fn start(&self, total: usize);
    /// `path` is being imported.
    fn file(&self, path: &Path);
    /// The file being imported is done (imported, updated, unchanged or failed).
    fn done(&self);
    /// Every file is done.
    fn finish(&self);
}

/// Shows nothing.
pub struct Silent;

impl ImportProgress for Silent {
    fn start(&self, _: usize) {}
    fn file(&self, _: &Path) {}
    fn done(&self) {}
    fn finish(&self) {}
}

/// A progress bar on stderr: files done out of the total and the file being read.
pub struct Bar(ProgressBar);

impl Bar {
    /// A bar when stderr is a terminal; `None` otherwise.
    pub fn on_terminal() -> Option<Self> {
        std::io::stderr()
            .is_terminal()
            .then(|| Self::new(ProgressDrawTarget::stderr()))
    }

    fn new(target: ProgressDrawTarget) -> Self {
        let style = ProgressStyle::with_template(
            "{spinner} [{elapsed_precise}] {bar:30} {pos}/{len} files  {wide_msg}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar());
        let bar = ProgressBar::with_draw_target(Some(0), target).with_style(style);
        Self(bar)
    }
}

impl ImportProgress for Bar {
    fn start(&self, total: usize) {
        self.0.set_length(total as u64);
        self.0.enable_steady_tick(Duration::from_millis(120));
    }

    fn file(&self, path: &Path) {
        let name = path.file_name().unwrap_or(path.as_os_str());
        self.0.set_message(name.to_string_lossy().into_owned());
    }

    fn done(&self) {
        self.0.inc(1);
    }

    fn finish(&self) {
        // The summary printed next takes the bar's place.
        self.0.finish_and_clear();
    }
}

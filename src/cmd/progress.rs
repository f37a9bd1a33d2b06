//! A progress spinner on stderr for explorations that run longer than a second.
//! Hidden when stderr is not a terminal (indicatif checks).

use std::time::Duration;

use hbsim::explore::Progress;
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Explorations shorter than this never show a bar.
const SHOW_AFTER: Duration = Duration::from_secs(1);

/// A lazily created spinner for one exploration, one line of `bars` (tests
/// explored at once each have their own line).
pub struct Bar<'m> {
    bars: &'m MultiProgress,
    label: String,
    bar: Option<ProgressBar>,
}

impl<'m> Bar<'m> {
    pub fn new(bars: &'m MultiProgress, test: &str, model: &str) -> Self {
        Bar {
            bars,
            label: format!("{test} under {model}"),
            bar: None,
        }
    }

    pub fn update(&mut self, progress: &Progress) {
        if progress.elapsed < SHOW_AFTER {
            return;
        }
        let bar = self.bar.get_or_insert_with(|| {
            let bar = self.bars.add(
                ProgressBar::with_draw_target(None, ProgressDrawTarget::hidden())
                    .with_elapsed(progress.elapsed),
            );
            bar.set_style(
                ProgressStyle::with_template("{spinner} {elapsed} {msg}")
                    .expect("invariant: the template is valid"),
            );
            bar.enable_steady_tick(Duration::from_millis(200));
            bar
        });
        let per_second = progress.states as f64 / progress.elapsed.as_secs_f64().max(1e-9);
        bar.set_message(format!(
            "{}: {} states ({:.0}/s), {} transitions, depth {}, {} to expand (Ctrl-C stops)",
            self.label,
            progress.states,
            per_second,
            progress.transitions,
            progress.depth,
            progress.pending
        ));
    }

    pub fn finish(self) {
        if let Some(bar) = self.bar {
            bar.finish_and_clear();
        }
    }
}

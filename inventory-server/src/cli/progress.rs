//! Progress of long jobs, on stderr, drawn only when stderr is a terminal (indicatif hides a bar
//! whose target is not one), so that logs, pipes and an export's data never carry it.

use indicatif::{ProgressBar, ProgressStyle};
use std::time::Duration;

fn styled(bar: ProgressBar, template: &str) -> ProgressBar {
    // The templates are constants: a bad one is a bug that the unit test below catches.
    bar.with_style(
        ProgressStyle::with_template(template)
            .expect("a valid progress template")
            .progress_chars("=> "),
    )
}

const BYTES: &str = "{msg} [{wide_bar}] {bytes}/{total_bytes} ({bytes_per_sec}, {eta})";
const ROWS: &str = "{msg} [{wide_bar}] {human_pos}/{human_len} ({per_sec}, {eta})";
const COUNT: &str = "{spinner} {msg} {human_pos} ({per_sec})";
const WAIT: &str = "{spinner} {msg} ({elapsed})";

/// A bar over `total` bytes.
pub fn bytes(total: u64, message: String) -> ProgressBar {
    styled(ProgressBar::new(total), BYTES).with_message(message)
}

/// A bar over about `total` rows.
pub fn rows(total: u64, message: String) -> ProgressBar {
    styled(ProgressBar::new(total), ROWS).with_message(message)
}

/// A counter of rows when their number is not known in advance.
pub fn count(message: String) -> ProgressBar {
    styled(ProgressBar::no_length(), COUNT).with_message(message)
}

/// A spinner for one long call that reports nothing as it goes (an import's transaction).
pub fn wait(message: String) -> ProgressBar {
    let bar = styled(ProgressBar::no_length(), WAIT).with_message(message);
    bar.enable_steady_tick(Duration::from_millis(120));
    bar
}

/// The bar, or a hidden one when `show` is false.
pub fn shown(bar: ProgressBar, show: bool) -> ProgressBar {
    if !show {
        bar.set_draw_target(indicatif::ProgressDrawTarget::hidden());
    }
    bar
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_template_parses() {
        for template in [super::BYTES, super::ROWS, super::COUNT, super::WAIT] {
            indicatif::ProgressStyle::with_template(template).unwrap();
        }
    }
}

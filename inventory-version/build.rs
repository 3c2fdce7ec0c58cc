//! Records the commit being built as `INVENTORY_COMMIT`: `git rev-parse` of the checkout the
//! crate sits in, or "unknown" outside one (an unpacked sdist, a tarball), also when that is
//! unpacked inside some other repository (this file is not tracked there). Cargo reruns this
//! only when HEAD moves, so an ordinary rebuild does not recompile the surfaces that embed it.

use std::path::Path;
use std::process::Command;

fn git(dir: &Path, args: &[&str]) -> Option<String> {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .output()
        .ok()?;
    let text = String::from_utf8(out.stdout).ok()?;
    (out.status.success() && !text.trim().is_empty()).then(|| text.trim().to_owned())
}

fn main() {
    let dir = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let dir = Path::new(&dir);
    let tracked = git(dir, &["ls-files", "--full-name", "build.rs"]).is_some();
    let commit = tracked
        .then(|| git(dir, &["rev-parse", "--short=12", "HEAD"]))
        .flatten();
    if commit.is_some() {
        // HEAD names a branch whose ref is a loose file or a line of packed-refs; in a worktree
        // they live in the common git directory, which --git-path resolves.
        let mut watched = vec!["HEAD".to_owned(), "packed-refs".to_owned()];
        watched.extend(git(dir, &["symbolic-ref", "-q", "HEAD"]));
        for name in watched {
            if let Some(path) = git(dir, &["rev-parse", "--git-path", &name]) {
                let path = dir.join(path);
                if path.exists() {
                    println!("cargo:rerun-if-changed={}", path.display());
                }
            }
        }
    }
    println!("cargo:rerun-if-changed=build.rs");
    let target = std::env::var("TARGET").expect("cargo sets TARGET");
    println!("cargo:rustc-env=INVENTORY_TARGET={target}");
    println!(
        "cargo:rustc-env=INVENTORY_COMMIT={}",
        commit.as_deref().unwrap_or("unknown")
    );
}

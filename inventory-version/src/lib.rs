//! The version every surface reports, `0.1.0+1a2b3c4d5e6f`: Cargo's version of the workspace and,
//! as SemVer build metadata (also a PEP 440 local version), the commit it was built from. The
//! server's `--version`, `/health` and OpenAPI document, `inventory.__version__` and C's
//! `inv_version()` all read it here.

/// The workspace's version, as in Cargo.toml.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// The commit built (12 hex digits), or "unknown" when built outside a git checkout.
pub const COMMIT: &str = env!("INVENTORY_COMMIT");

/// `VERSION+COMMIT`.
pub const FULL: &str = concat!(env!("CARGO_PKG_VERSION"), "+", env!("INVENTORY_COMMIT"));

/// [`FULL`] as a C string, for C's `inv_version()`.
pub const FULL_C: &std::ffi::CStr = match std::ffi::CStr::from_bytes_with_nul(
    concat!(
        env!("CARGO_PKG_VERSION"),
        "+",
        env!("INVENTORY_COMMIT"),
        "\0"
    )
    .as_bytes(),
) {
    Ok(c) => c,
    Err(_) => panic!("the version holds no NUL"),
};

/// The target triple this build is for.
pub const TARGET: &str = env!("INVENTORY_TARGET");

#[cfg(test)]
mod tests {
    use super::*;

    /// The commit is the checkout's HEAD now: a commit made since the last build reran the
    /// build script.
    #[test]
    fn commit_is_head() {
        let head = std::process::Command::new("git")
            .args([
                "-C",
                env!("CARGO_MANIFEST_DIR"),
                "rev-parse",
                "--short=12",
                "HEAD",
            ])
            .output()
            .expect("git runs");
        assert!(head.status.success(), "the tests run in a git checkout");
        assert_eq!(COMMIT, String::from_utf8(head.stdout).unwrap().trim());
        assert_eq!(FULL, format!("{VERSION}+{COMMIT}"));
        assert_eq!(FULL_C.to_str(), Ok(FULL));
    }
}

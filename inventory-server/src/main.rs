//! The inventory-server binary: everything is in the library (`lib.rs`), which `fuzz/` links too.

fn main() -> std::process::ExitCode {
    inventory_server::main()
}

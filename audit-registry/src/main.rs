//! `audit-registry`: stores signed sign-offs for an organization. The server is built in its own
//! issue; until then the binary only says so.

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "--version" || a == "-V") {
        println!("audit-registry {}", env!("CARGO_PKG_VERSION"));
        return ExitCode::SUCCESS;
    }
    eprintln!("audit-registry: the server is not built yet; see docs/ for the plan");
    ExitCode::from(2)
}

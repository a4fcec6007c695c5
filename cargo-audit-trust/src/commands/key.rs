//! `key new` and `key show`. Only public keys are ever printed.

use std::io::Write as _;
use std::process::ExitCode;

use audit_trust_core::signoff::{SigningKey, create_key_file};
use serde::Serialize;

use crate::cli::{Format, GlobalArgs, KeyCommand};
use crate::context::CliError;
use crate::output::{write_json, write_stdout};
use crate::signing::{default_key_path, load_signing_key};

#[derive(Serialize)]
struct KeyJson<'a> {
    public_key: String,
    /// The key file, or the environment variable the key came from.
    origin: &'a str,
}

pub fn run(global: &GlobalArgs, command: &KeyCommand) -> Result<ExitCode, CliError> {
    match command {
        KeyCommand::New { out } => {
            let path = match out {
                Some(path) => std::path::absolute(path).unwrap_or_else(|_| path.clone()),
                None => default_key_path()?,
            };
            let key = SigningKey::generate()
                .map_err(|e| CliError::Usage(format!("cannot make a key: {e}")))?;
            create_key_file(&path, &key)?;
            let origin = path.display().to_string();
            show(global, &key, &origin)?;
            if global.format == Format::Human && !global.quiet {
                let _ = writeln!(
                    std::io::stderr(),
                    "Wrote the secret key to {origin} (readable by you only; never share it).\n\
                     Pin the public key in Cargo.audit:\n  keys = [{{ key = \"{}\" }}]",
                    key.public_key()
                );
            }
        }
        KeyCommand::Show(args) => {
            let loaded = load_signing_key(args.key.as_deref())?;
            show(global, &loaded.key, &loaded.origin)?;
            if global.format == Format::Human && global.verbose > 0 {
                let _ = writeln!(std::io::stderr(), "from {}", loaded.origin);
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The public key alone on stdout (easy to script), or JSON.
fn show(global: &GlobalArgs, key: &SigningKey, origin: &str) -> Result<(), CliError> {
    match global.format {
        Format::Json => write_json(&KeyJson {
            public_key: key.public_key().to_string(),
            origin,
        }),
        Format::Human | Format::Sarif => write_stdout(&format!("{}\n", key.public_key())),
    }
}

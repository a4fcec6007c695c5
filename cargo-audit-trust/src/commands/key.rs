//! `key new` and `key show`. Only public keys are ever printed.

use std::io::Write as _;
use std::process::ExitCode;

use audit_trust_core::signoff::{SigningKey, create_key_file};
use serde::Serialize;

use crate::cli::KeyCommand;
use crate::error::CliError;
use crate::output::{write_json, write_stdout};
use crate::services::signing::{default_key_path, load_signing_key};
use crate::settings::{OutputFormat, Settings, absolute};

#[derive(Serialize)]
struct KeyJson<'a> {
    public_key: String,
    /// The key file, or the environment variable the key came from.
    origin: &'a str,
}

pub fn run(settings: &Settings, command: &KeyCommand) -> Result<ExitCode, CliError> {
    match command {
        KeyCommand::New { out } => {
            let path = match out {
                Some(path) => absolute(path),
                None => default_key_path()?,
            };
            let key = SigningKey::generate()
                .map_err(|e| CliError::Usage(format!("cannot make a key: {e}")))?;
            create_key_file(&path, &key)?;
            let origin = path.display().to_string();
            show(settings, &key, &origin)?;
            if settings.format == OutputFormat::Human && !settings.quiet {
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
            show(settings, &loaded.key, &loaded.origin)?;
            if settings.format == OutputFormat::Human && settings.verbose {
                let _ = writeln!(std::io::stderr(), "from {}", loaded.origin);
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The public key alone on stdout (easy to script), or JSON.
fn show(settings: &Settings, key: &SigningKey, origin: &str) -> Result<(), CliError> {
    match settings.format {
        OutputFormat::Json => write_json(&KeyJson {
            public_key: key.public_key().to_string(),
            origin,
        }),
        OutputFormat::Human => write_stdout(&format!("{}\n", key.public_key())),
    }
}

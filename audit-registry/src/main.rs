//! `audit-registry`: serve the sign-off registry, or manage the auditors it accepts.
//! Exit codes: 0 success, 2 usage or start-up errors.

#[cfg(test)]
mod doc_commands_tests;
mod logs;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use audit_registry::db::Db;
use audit_registry::export::{export, export_on_schedule};
use audit_registry::notify::{self, DeliveryConfig};
use audit_registry::serve::{
    ConnectionLimits, DEFAULT_MAX_CONNECTIONS, DEFAULT_MAX_CONNECTIONS_PER_CLIENT, serve,
    shutdown_signal,
};
use audit_registry::witness::WitnessArgs;
use audit_registry::witness::collect::{WitnessClientArgs, cosign_on_schedule};
use audit_registry::worker::{self, WorkerConfig};
use audit_registry::{AppState, Limits, router, valid_name};
use audit_trust_core::egress::EgressPolicy;
use audit_trust_core::http::HttpClient;
use audit_trust_core::provenance::UrlRewrites;
use audit_trust_core::signoff::PublicKey;
use audit_trust_core::time::{Clock, FixedClock, SystemClock, Timestamp};
use audit_trust_core::words::plural;

use crate::logs::{LogFormat, init_logs};
use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "audit-registry",
    version,
    about = "Stores signed sign-offs for an organization"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the HTTP API
    Serve {
        /// Address to listen on (port 0: any free port; the address is printed)
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: SocketAddr,
        /// sqlite://PATH (created on first start) or postgres://…
        #[arg(long, env = "AUDIT_REGISTRY_DB")]
        db: String,
        /// Largest request body accepted, in bytes
        #[arg(long, default_value_t = Limits::default().max_body_bytes)]
        max_body_bytes: usize,
        /// Most records in one publish
        #[arg(long, default_value_t = Limits::default().max_batch)]
        max_batch: usize,
        /// Most crate names in one `POST /v1/crates` query
        #[arg(long, default_value_t = Limits::default().max_query_crates)]
        max_query_crates: usize,
        /// Requests per minute per client address (0: unlimited)
        #[arg(long, default_value_t = Limits::default().rate_per_minute)]
        rate_per_minute: u32,
        /// Log lines as JSON objects (one per line) or as text
        #[arg(long, value_enum, default_value_t = LogFormat::Text, env = "AUDIT_REGISTRY_LOG_FORMAT")]
        log_format: LogFormat,
        /// Keep a static export of every record in this folder (see `export`), rewritten after
        /// publishes
        #[arg(long, value_name = "DIR")]
        export_dir: Option<PathBuf>,
        /// Check for new publishes to export at most every this many seconds
        #[arg(long, value_name = "SECS", default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..))]
        export_interval: u64,
        /// Pretend it is this instant (YYYY-MM-DDTHH:MM:SSZ), for reproducible tests
        #[arg(long, hide = true, value_name = "INSTANT")]
        now: Option<String>,
        /// A host (HOST or HOST:PORT) outbound requests may reach by http or https whatever it
        /// resolves to, e.g. an internal mirror; repeatable. Others: public https only.
        #[arg(long = "mirror", value_name = "HOST[:PORT]")]
        mirrors: Vec<String>,
        #[command(flatten)]
        connections: ConnectionArgs,
        #[command(flatten)]
        webhooks: WebhookArgs,
        #[command(flatten)]
        worker: Box<WorkerArgs>,
        #[command(flatten)]
        witnesses: WitnessClientArgs,
    },
    /// Run a C2SP tlog-witness for one log: cosign its checkpoints after checking them
    Witness(WitnessArgs),
    /// Write every record as static files that any web server, object store or CDN can serve
    /// (clients read them with `records = { url = "…" }`)
    Export {
        /// The folder to write (created if needed; brought up to date if it holds an export)
        dir: PathBuf,
        #[arg(long, env = "AUDIT_REGISTRY_DB")]
        db: String,
        /// Pretend it is this instant (YYYY-MM-DDTHH:MM:SSZ), for reproducible tests
        #[arg(long, hide = true, value_name = "INSTANT")]
        now: Option<String>,
    },
    /// Manage the auditors (keys) whose records are accepted
    #[command(subcommand)]
    Auditor(AuditorCommand),
    /// Manage the tokens that may change the registry over HTTP
    #[command(subcommand, name = "admin-token")]
    AdminToken(AdminTokenCommand),
    /// Set the organization's default policy, which the projects' lockfiles are evaluated by
    #[command(subcommand)]
    Policy(PolicyCommand),
}

#[derive(Debug, Subcommand)]
enum PolicyCommand {
    /// Set it from a Cargo.audit-format file (checked as `check` checks one)
    Set {
        file: PathBuf,
        #[arg(long, env = "AUDIT_REGISTRY_DB")]
        db: String,
    },
}

/// The automatic auditor (`--worker`); see docs/service.md.
#[derive(Debug, clap::Args)]
struct WorkerArgs {
    /// Run the automatic auditor in this process (any number of instances may share a database)
    #[arg(long)]
    worker: bool,
    /// The service's key file (`cargo audit-trust key new`); it signs `source-matches`
    #[arg(long, value_name = "PATH", required_if_eq("worker", "true"))]
    signing_key: Option<PathBuf>,
    /// The auditor name the service key is registered under if it is not registered yet
    #[arg(long, default_value = "automatic-auditor")]
    auditor_name: String,
    /// Sparse index to poll
    #[arg(long, value_name = "URL", default_value = crates_index::sparse::URL)]
    index: String,
    /// Fetch repositories under PREFIX from REPLACEMENT instead (an internal git mirror, a local
    /// path); the sign-off still names the original URL; repeatable
    #[arg(long = "git-rewrite", value_name = "PREFIX=REPLACEMENT")]
    git_rewrites: Vec<String>,
    /// Seconds between two polls of a watched crate's index file
    #[arg(long, default_value_t = 300)]
    poll_interval: u64,
    /// Seconds a claimed job stays with its worker without a heartbeat
    #[arg(long, default_value_t = 300)]
    lease_secs: u64,
    /// Attempts of a job before it is marked failed
    #[arg(long, default_value_t = 5)]
    max_attempts: i64,
    /// Where fetched repositories are cached
    #[arg(long, value_name = "DIR", default_value = "audit-registry-git")]
    git_cache: PathBuf,
    /// A Cargo.audit-format file whose `[risk]` says which risk signals stop a signature
    /// (default: docs/risk.md's defaults)
    #[arg(long, value_name = "FILE")]
    risk_policy: Option<PathBuf>,
    /// Where crate files read for risk signals are cached
    #[arg(long, value_name = "DIR", default_value = "audit-registry-crates")]
    crate_cache: PathBuf,
    /// Largest .crate downloaded, in bytes
    #[arg(long, default_value_t = 64 * 1024 * 1024)]
    max_crate_bytes: u64,
    /// Seconds one index request or download may take
    #[arg(long, default_value_t = 60)]
    http_timeout: u64,
    /// Seconds one repository fetch may take
    #[arg(long, default_value_t = 600)]
    git_timeout: u64,
    /// Days a head signed by the service stays valid (renewed at half)
    #[arg(long, default_value_t = 30)]
    head_lifetime_days: i64,
    /// Test knob: seconds to wait after claiming a job, so a test can kill the process mid-job
    #[arg(long, hide = true, default_value_t = 0)]
    test_hold_job_secs: u64,
}

/// What slow, stalled and numerous clients may hold (docs/registry-api.md, "Resource limits").
#[derive(Debug, clap::Args)]
struct ConnectionArgs {
    /// Connections served at once; beyond, a few more are answered 503 (`GET /health` still
    /// answers) and the rest closed at once
    #[arg(long, default_value_t = DEFAULT_MAX_CONNECTIONS, value_parser = clap::value_parser!(u32).range(1..))]
    max_connections: u32,
    /// Connections one client address (an IPv6 /64) may hold open at once
    #[arg(long, default_value_t = DEFAULT_MAX_CONNECTIONS_PER_CLIENT, value_parser = clap::value_parser!(u32).range(1..))]
    max_connections_per_ip: u32,
    /// Seconds a client has to send a request's head, counted from the connection's start or
    /// the previous answer (so also how long an idle keep-alive connection is kept)
    #[arg(long, value_name = "SECS", default_value_t = ConnectionLimits::default().header_timeout.as_secs(),
          value_parser = clap::value_parser!(u64).range(1..))]
    header_timeout: u64,
    /// Seconds a request body has to arrive in full; a slower one is answered 408 and closed
    #[arg(long, value_name = "SECS", default_value_t = Limits::default().body_timeout.as_secs(),
          value_parser = clap::value_parser!(u64).range(1..))]
    body_timeout: u64,
    /// Request body bytes held in memory at once, all requests together; a body that does not
    /// fit is answered 503 (at least --max-body-bytes)
    #[arg(long, default_value_t = Limits::default().max_buffered_body_bytes)]
    max_buffered_body_bytes: usize,
}

/// How webhook deliveries are paced.
#[derive(Debug, clap::Args)]
struct WebhookArgs {
    /// Pause before a failed webhook is retried, in milliseconds; doubled after each failure
    #[arg(long, default_value_t = 30_000)]
    webhook_retry_base_ms: u64,
    /// Longest pause between webhook retries, in seconds
    #[arg(long, default_value_t = 6 * 3600)]
    webhook_retry_max_secs: u64,
    /// Attempts before a webhook delivery is given up
    #[arg(long, default_value_t = 10)]
    webhook_max_attempts: u32,
    /// Time limit of one webhook request, in seconds
    #[arg(long, default_value_t = 10)]
    webhook_timeout_secs: u64,
    /// Days finished webhook events and their delivery logs are kept
    #[arg(long, default_value_t = 30)]
    webhook_log_days: u64,
    /// How often due webhook deliveries are looked for, in milliseconds
    #[arg(long, default_value_t = 1000)]
    webhook_poll_ms: u64,
}

impl WebhookArgs {
    fn config(&self) -> Result<DeliveryConfig, String> {
        if self.webhook_max_attempts == 0 {
            return Err("--webhook-max-attempts must be at least 1".into());
        }
        Ok(DeliveryConfig {
            retry_base: Duration::from_millis(self.webhook_retry_base_ms),
            retry_max: Duration::from_secs(self.webhook_retry_max_secs),
            max_attempts: self.webhook_max_attempts,
            timeout: Duration::from_secs(self.webhook_timeout_secs.max(1)),
            poll: Duration::from_millis(self.webhook_poll_ms.max(10)),
            retention: Duration::from_secs(self.webhook_log_days.saturating_mul(86_400)),
            ..DeliveryConfig::default()
        })
    }
}

#[derive(Debug, Subcommand)]
enum AdminTokenCommand {
    /// Make a token; it is printed once and only its hash is stored
    New {
        /// A name for the token, to list and revoke it by
        name: String,
        #[arg(long, env = "AUDIT_REGISTRY_DB")]
        db: String,
    },
    /// List token names
    List {
        #[arg(long, env = "AUDIT_REGISTRY_DB")]
        db: String,
    },
    /// Revoke a token
    Revoke {
        name: String,
        #[arg(long, env = "AUDIT_REGISTRY_DB")]
        db: String,
    },
}

#[derive(Debug, Subcommand)]
enum AuditorCommand {
    /// Accept records signed with this key
    Add {
        name: String,
        #[arg(long)]
        key: String,
        #[arg(long, env = "AUDIT_REGISTRY_DB")]
        db: String,
    },
    /// List the accepted auditors
    List {
        #[arg(long, env = "AUDIT_REGISTRY_DB")]
        db: String,
    },
    /// Stop accepting new records from an auditor (its records stay)
    Remove {
        name: String,
        #[arg(long, env = "AUDIT_REGISTRY_DB")]
        db: String,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => return fail(&format!("cannot start the runtime: {e}")),
    };
    match runtime.block_on(run(cli.command)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => fail(&message),
    }
}

fn fail(message: &str) -> ExitCode {
    eprintln!("error: {message}");
    ExitCode::from(2)
}

async fn run(command: Command) -> Result<(), String> {
    match command {
        Command::Serve {
            listen,
            db,
            max_body_bytes,
            max_batch,
            max_query_crates,
            rate_per_minute,
            log_format,
            export_dir,
            export_interval,
            now,
            mirrors,
            connections,
            webhooks,
            worker,
            witnesses,
        } => {
            let witnesses = witnesses.build()?;
            let delivery = webhooks.config()?;
            if connections.max_buffered_body_bytes < max_body_bytes {
                return Err(format!(
                    "--max-buffered-body-bytes ({}) must be at least --max-body-bytes ({max_body_bytes})",
                    connections.max_buffered_body_bytes
                ));
            }
            let clock = clock_from(now)?;
            init_logs(log_format);
            let db = Db::connect(&db).await.map_err(|e| e.to_string())?;
            if let Some(dir) = export_dir {
                tokio::spawn(export_on_schedule(
                    db.clone(),
                    dir,
                    std::time::Duration::from_secs(export_interval),
                    Arc::clone(&clock),
                ));
            }
            let limits = Limits {
                max_body_bytes,
                max_batch,
                max_query_crates,
                rate_per_minute,
                max_buffered_body_bytes: connections.max_buffered_body_bytes,
                body_timeout: Duration::from_secs(connections.body_timeout),
                ..Limits::default()
            };
            let connection_limits = ConnectionLimits {
                max_connections: usize::try_from(connections.max_connections).unwrap_or(usize::MAX),
                max_connections_per_client: usize::try_from(connections.max_connections_per_ip)
                    .unwrap_or(usize::MAX),
                header_timeout: Duration::from_secs(connections.header_timeout),
                ..ConnectionLimits::default()
            };
            let egress = EgressPolicy::public_only().with_mirrors(&mirrors);
            let mut state = AppState::new(db, limits, clock).with_egress(egress.clone());
            if let Some(witnesses) = witnesses {
                tokio::spawn(cosign_on_schedule(
                    Arc::clone(&witnesses),
                    state.db.clone(),
                    Duration::from_secs(10),
                ));
                state = state.with_witnesses(witnesses);
            }
            if worker.worker {
                start_worker(&state, *worker, egress.clone()).await?;
            }
            // Webhooks go out through the guarded client: every connection and redirect is
            // checked against the egress policy when its address is resolved.
            tokio::spawn(notify::run_deliveries(
                state.db.clone(),
                HttpClient::guarded(delivery.timeout, egress),
                delivery,
                notify::system_now_ms(),
            ));
            let listener = tokio::net::TcpListener::bind(listen)
                .await
                .map_err(|e| format!("cannot listen on {listen}: {e}"))?;
            let bound = listener.local_addr().map_err(|e| e.to_string())?;
            // The first line of stdout, for scripts and tests that asked for port 0.
            println!("listening on http://{bound}");
            tracing::info!(%bound, "serving");
            let warm = state.db.clone();
            tokio::spawn(async move { warm.catch_up_at_start().await });
            let metrics = Arc::clone(&state.metrics);
            serve(
                listener,
                router(state),
                connection_limits,
                metrics,
                shutdown_signal(),
            )
            .await;
            Ok(())
        }
        Command::Witness(args) => {
            init_logs(LogFormat::Text);
            let clock = audit_registry::witness::unix_clock(args.now.as_deref())?;
            audit_registry::witness::run(args, clock, shutdown_signal()).await
        }
        Command::Export { dir, db, now } => {
            let clock = clock_from(now)?;
            let db = Db::connect(&db).await.map_err(|e| e.to_string())?;
            let summary = export(&db, &dir, clock.as_ref())
                .await
                .map_err(|e| e.to_string())?;
            println!(
                "exported {} of {}, {}, to {} ({} written)",
                plural(summary.records as u64, "record", "records"),
                plural(summary.keys as u64, "key", "keys"),
                plural(summary.crates as u64, "crate file", "crate files"),
                dir.display(),
                plural(summary.files_written as u64, "file", "files")
            );
            if summary.log_size > 0 {
                println!(
                    "log: {}, tiles written from entry {} ({} written)",
                    plural(summary.log_size, "entry", "entries"),
                    audit_trust_core::words::thousands(summary.log_from),
                    plural(summary.log_files_written as u64, "file", "files")
                );
            }
            Ok(())
        }
        Command::Auditor(AuditorCommand::Add { name, key, db }) => {
            if !valid_name(&name) {
                return Err(
                    "an auditor name is 1 to 64 ASCII letters, digits, `-`, `_` or `.`".into(),
                );
            }
            let key = PublicKey::parse(&key).map_err(|e| e.to_string())?;
            let db = Db::connect(&db).await.map_err(|e| e.to_string())?;
            let today = SystemClock.now().to_string();
            db.add_auditor(&name, &key, &today)
                .await
                .map_err(|e| e.to_string())?;
            println!("added auditor `{name}` with key {key}");
            Ok(())
        }
        Command::Auditor(AuditorCommand::List { db }) => {
            let db = Db::connect(&db).await.map_err(|e| e.to_string())?;
            for (name, key) in db.auditors().await.map_err(|e| e.to_string())? {
                println!("{name}\t{key}");
            }
            Ok(())
        }
        Command::Auditor(AuditorCommand::Remove { name, db }) => {
            let db = Db::connect(&db).await.map_err(|e| e.to_string())?;
            if db.remove_auditor(&name).await.map_err(|e| e.to_string())? {
                println!("removed auditor `{name}`; its records stay");
                Ok(())
            } else {
                Err(format!("no auditor named `{name}`"))
            }
        }
        Command::AdminToken(AdminTokenCommand::New { name, db }) => {
            if !valid_name(&name) {
                return Err(
                    "a token name is 1 to 64 ASCII letters, digits, `-`, `_` or `.`".into(),
                );
            }
            let db = Db::connect(&db).await.map_err(|e| e.to_string())?;
            let today = SystemClock.now().to_string();
            let token = db
                .create_admin_token(&name, &today)
                .await
                .map_err(|e| e.to_string())?;
            // The only time the secret is shown: stdout alone, so `> file` captures just it.
            println!("{}", token.secret);
            eprintln!(
                "admin token `{}` made; it is shown once, only its hash is stored",
                token.name
            );
            Ok(())
        }
        Command::Policy(PolicyCommand::Set { file, db }) => {
            let text = audit_registry::org::read_policy_file(&file)?;
            let db = Db::connect(&db).await.map_err(|e| e.to_string())?;
            let now = SystemClock.now().to_string();
            db.set_org_policy(&text, "command-line", &now)
                .await
                .map_err(|e| e.to_string())?;
            println!("organization policy set from {}", file.display());
            Ok(())
        }
        Command::AdminToken(AdminTokenCommand::List { db }) => {
            let db = Db::connect(&db).await.map_err(|e| e.to_string())?;
            for (name, created) in db.admin_tokens().await.map_err(|e| e.to_string())? {
                println!("{name}\t{created}");
            }
            Ok(())
        }
        Command::AdminToken(AdminTokenCommand::Revoke { name, db }) => {
            let db = Db::connect(&db).await.map_err(|e| e.to_string())?;
            if db
                .revoke_admin_token(&name)
                .await
                .map_err(|e| e.to_string())?
            {
                println!("revoked admin token `{name}`");
                Ok(())
            } else {
                Err(format!("no admin token named `{name}`"))
            }
        }
    }
}

/// Registers the service key and starts the automatic auditor's loops.
async fn start_worker(
    state: &AppState,
    args: WorkerArgs,
    policy: EgressPolicy,
) -> Result<(), String> {
    let db = &state.db;
    let path = args.signing_key.ok_or(
        "--worker needs --signing-key PATH (a key file made by `cargo audit-trust key new`)",
    )?;
    let key = audit_trust_core::signoff::load_key_file(&path)
        .map_err(|e| format!("--signing-key {}: {e}", path.display()))?;
    if !valid_name(&args.auditor_name) {
        return Err("--auditor-name: 1 to 64 ASCII letters, digits, `-`, `_` or `.`".into());
    }
    let mut rules = BTreeMap::new();
    for rule in &args.git_rewrites {
        let (from, to) = rule
            .split_once('=')
            .filter(|(f, t)| !f.is_empty() && !t.is_empty())
            .ok_or_else(|| format!("--git-rewrite `{rule}`: write PREFIX=REPLACEMENT"))?;
        rules.insert(from.to_owned(), to.to_owned());
    }
    let today = SystemClock.now().to_string();
    worker::ensure_service_auditor(db, &key.public_key(), &args.auditor_name, &today).await?;
    let config = WorkerConfig {
        index_url: args.index,
        policy,
        rewrites: UrlRewrites::new(rules),
        signing_key: Arc::new(key),
        poll_interval: Duration::from_secs(args.poll_interval.max(1)),
        lease: Duration::from_secs(args.lease_secs.max(3)),
        max_attempts: args.max_attempts.max(1),
        git_cache: args.git_cache,
        risk: worker::load_risk_policy(args.risk_policy.as_deref())?,
        crate_cache: args.crate_cache,
        http_timeout: Duration::from_secs(args.http_timeout.max(1)),
        max_crate_bytes: args.max_crate_bytes,
        git_timeout: Duration::from_secs(args.git_timeout.max(1)),
        git_max_bytes: 2 * 1024 * 1024 * 1024,
        head_lifetime_days: args.head_lifetime_days.max(1),
        hold_after_claim: Duration::from_secs(args.test_hold_job_secs),
        worker_id: worker::new_worker_id(),
    };
    // Leases and retries run on the real clock, whatever `--now` says.
    worker::spawn(
        db.clone(),
        config,
        Arc::new(SystemClock),
        Arc::clone(&state.metrics),
    );
    Ok(())
}

fn clock_from(now: Option<String>) -> Result<Arc<dyn Clock>, String> {
    Ok(match now {
        Some(text) => {
            Arc::new(FixedClock(Timestamp::parse(&text).ok_or_else(|| {
                format!("--now `{text}`: write 2025-01-31T12:00:00Z")
            })?))
        }
        None => Arc::new(SystemClock),
    })
}

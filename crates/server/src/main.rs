//! The `tessera` binary (`docs/reference/configuration.md`, "Command line"). Every start-up failure is
//! one line on stderr and exit code 2; never a panic or a backtrace.

use clap::{Parser, Subcommand};
use std::io::Read;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use tessera_server::config::Config;
use tessera_server::{demo, StartError};

/// mimalloc (feature `mimalloc`): per-thread free lists without glibc's consolidation passes;
/// faster on the token path, but it keeps freed memory (the start-up Argon2 hash's 19 MiB
/// among it) where glibc returns it, so the default build stays on glibc (`BENCHMARKS.md`).
#[cfg(feature = "mimalloc")]
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "tessera",
    version,
    about = "Identity and single-sign-on server"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server.
    Serve {
        #[arg(long)]
        config: Option<PathBuf>,
        /// Load the built-in demo data and print curl lines for each dialect.
        #[arg(long)]
        demo: bool,
    },
    /// Apply schema migrations and exit.
    Migrate {
        #[arg(long)]
        config: Option<PathBuf>,
    },
    /// Apply a bootstrap file and exit.
    Bootstrap {
        file: PathBuf,
        #[arg(long)]
        config: Option<PathBuf>,
    },
    /// Read a password on stdin, print its Argon2id hash.
    HashPassword {
        #[arg(long)]
        config: Option<PathBuf>,
    },
    /// Validate the configuration and print the effective values, secrets masked.
    CheckConfig {
        #[arg(long)]
        config: Option<PathBuf>,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // On one core (a pinned process, a one-CPU container) the current-thread scheduler: the
    // multi-thread one would run a single worker behind cross-thread queues and wake-ups.
    // Password hashing runs in its own bounded pool either way (`tessera_core::password`).
    let one_core = std::thread::available_parallelism().map_or(true, |n| n.get() == 1);
    let mut builder = if one_core {
        tokio::runtime::Builder::new_current_thread()
    } else {
        tokio::runtime::Builder::new_multi_thread()
    };
    let rt = match builder.enable_all().build() {
        Ok(rt) => rt,
        Err(e) => return fail(&format!("cannot start the async runtime: {e}")),
    };
    match rt.block_on(run(cli.command)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(msg) => fail(&msg),
    }
}

fn fail(msg: &str) -> ExitCode {
    eprintln!("tessera: error: {msg}");
    ExitCode::from(2)
}

fn load(config: Option<&PathBuf>) -> Result<Config, String> {
    Config::load(config.map(|p| p.as_path())).map_err(|e| e.0)
}

fn init_logs(cfg: &Config) -> Result<(), String> {
    tessera_server::logs::init(&cfg.log.level, cfg.log.format)
}

async fn run(cmd: Command) -> Result<(), String> {
    match cmd {
        Command::Serve { config, demo } => {
            let mut cfg = load(config.as_ref())?;
            init_logs(&cfg)?;
            let mut extra = Vec::new();
            if demo {
                extra.push(("demo".to_string(), demo::BOOTSTRAP.to_string()));
                if cfg.dialects.cluster.default_client.is_empty() {
                    cfg.dialects.cluster.default_client = demo::CLUSTER_CLIENT.to_string();
                }
            }
            let running = tessera_server::start(cfg.clone(), extra)
                .await
                .map_err(|e| e.to_string())?;
            if demo {
                let scheme = if cfg.server.tls_cert.is_empty() {
                    "http"
                } else {
                    "https"
                };
                println!(
                    "{}",
                    demo::curl_lines(&format!("{scheme}://{}", running.addr))
                );
            }
            shutdown_signal().await;
            tracing::info!("shutting down");
            running.stop().await;
            Ok(())
        }
        Command::Migrate { config } => {
            let cfg = load(config.as_ref())?;
            tessera_server::open_store(&cfg)
                .await
                .map_err(|e| e.to_string())?;
            println!(
                "migrations applied to {}",
                tessera_server::config::mask_url(&cfg.database.url)
            );
            Ok(())
        }
        Command::Bootstrap { file, config } => {
            let cfg = load(config.as_ref())?;
            let d = cfg.derive().map_err(|(k, m)| format!("key {k}: {m}"))?;
            let text = std::fs::read_to_string(&file)
                .map_err(|e| format!("{}: cannot read: {e}", file.display()))?;
            let store = tessera_server::open_store(&cfg)
                .await
                .map_err(|e| e.to_string())?;
            let clock: Arc<dyn tessera_core::Clock> = Arc::new(tessera_core::SystemClock);
            // The one-shot command needs no shared short-lived state.
            let eph = Arc::new(tessera_ephemeral::MemoryEphemeral::new(clock.clone()));
            let engine = tessera_server::build_engine(
                &cfg,
                &d,
                store,
                eph,
                Arc::new(tessera_core::transport::NoTransport),
                Arc::new(tessera_core::signer::NoSigner),
                clock,
            )
            .map_err(|e| e.to_string())?;
            let r = tessera_server::apply_bootstrap(&engine, &file.display().to_string(), &text)
                .await
                .map_err(|e: StartError| e.to_string())?;
            println!(
                "bootstrap {}: {} changed, {} unchanged",
                file.display(),
                r.changed,
                r.unchanged
            );
            Ok(())
        }
        Command::HashPassword { config } => {
            let cfg = load(config.as_ref())?;
            let d = cfg.derive().map_err(|(k, m)| format!("key {k}: {m}"))?;
            let mut pw = String::new();
            std::io::stdin()
                .read_to_string(&mut pw)
                .map_err(|e| format!("cannot read stdin: {e}"))?;
            let pw = pw
                .strip_suffix('\n')
                .map(|p| p.strip_suffix('\r').unwrap_or(p))
                .unwrap_or(&pw);
            if pw.is_empty() {
                return Err("no password on stdin".into());
            }
            let p = &cfg.passwords;
            let h = tessera_core::password::PasswordHasher::new(
                tessera_core::password::HashParams {
                    m_kib: p.argon2_m_kib,
                    t: p.argon2_t,
                    p: p.argon2_p,
                },
                1,
                d.max_wait,
            )?;
            println!(
                "{}",
                h.hash_blocking(&tessera_core::secret::Secret::new(pw))
                    .map_err(|e| e.to_string())?
            );
            Ok(())
        }
        Command::CheckConfig { config } => {
            let cfg = load(config.as_ref())?;
            print!("{}", cfg.masked_toml());
            Ok(())
        }
    }
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(_) => {
                    let _ = ctrl_c.await;
                    return;
                }
            };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
}

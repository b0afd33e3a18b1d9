use clap::Parser;
use leptos::config::LeptosOptions;
use server::config::{Cli, Command, ServeArgs};
use server::engine::{Engine, EngineConfig, SystemClock};
use server::{AppState, router};
use std::process::ExitCode;
use std::sync::Arc;

mod alloc;

fn main() -> ExitCode {
    // A sandbox child evaluates workflow logic for the server that started
    // it: no runtime, no database, no configuration (its environment is
    // empty).
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some(server::sandbox::child::SUBCOMMAND) {
        return server::sandbox::child::main(&args[2..]);
    }
    // Validation parses user expressions on these threads; the checks bound
    // their nesting so that 1 MiB suffices, and 16 leave a wide margin.
    match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_stack_size(16 * 1024 * 1024)
        .build()
    {
        Ok(rt) => rt.block_on(run()),
        Err(e) => {
            eprintln!("stepwise: cannot start the runtime: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run() -> ExitCode {
    let cli = Cli::parse();
    if let Err(e) = server::telemetry::init(&cli.log) {
        eprintln!("stepwise: {e}");
        return ExitCode::from(2);
    }
    let result = match cli.command {
        Some(Command::Serve(args)) => serve(args).await,
        None => serve(cli.serve).await,
        Some(Command::User(c)) => server::cli::user(c).await,
        Some(Command::Token(c)) => server::cli::token(c).await,
        Some(Command::Secret(c)) => server::cli::secret(c).await,
        Some(Command::Copy(c)) => server::cli::copy(c).await,
        Some(Command::Backup(c)) => server::backup::backup(c).await,
        Some(Command::Restore(c)) => server::backup::restore(c).await,
        Some(Command::Audit(c)) => match server::cli::audit(c).await {
            Ok(true) => Ok(()),
            Ok(false) => return ExitCode::FAILURE,
            Err(e) => Err(e),
        },
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e}");
            ExitCode::FAILURE
        }
    }
}

async fn serve(args: ServeArgs) -> Result<(), String> {
    let db = server::cli::open_db(
        &args.database_url,
        args.durability,
        "the server did not start",
    )
    .await?;
    let sealer = app::security::Sealer::load(
        std::env::var("STEPWISE_SECRET_KEY").ok().as_deref(),
        &args.key_file()?,
    )?;
    app::ops::key_check::check(&db, &sealer).await?;
    let sessions = server::sessions::Sessions::open(&db).await?;
    {
        use tower_sessions::session_store::ExpiredDeletion;
        let store = sessions.clone();
        tokio::spawn(async move {
            let _ = store
                .continuously_delete_expired(std::time::Duration::from_secs(3600))
                .await;
        });
    }
    tracing::info!(database = %app::store::db::redacted(&args.database_url), durability = ?args.durability, "database ready");
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", args.listen))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    // the example calls the stand-in ledger on the address served here,
    // whatever the port
    if !args.no_example {
        let base = format!("http://{addr}");
        match app::ops::seed::seed_example(&db, &base, app::ops::now_ms()).await {
            Ok(true) => tracing::info!("added the example workflow"),
            Ok(false) => {}
            Err(e) => return Err(format!("cannot add the example workflow: {e}")),
        }
        match app::ops::seed::seed_triage(&db, &base, args.demo, app::ops::now_ms()).await {
            Ok(true) => tracing::info!("added the support ticket triage example"),
            Ok(false) => {}
            Err(e) => return Err(format!("cannot add the triage example: {e}")),
        }
    }
    let mut allow_hosts = args.allow_hosts.clone();
    if args.demo {
        // the stand-in services are on this server: its steps may call them
        allow_hosts.admit(&addr.to_string())?;
    }
    // hashed file names when the site was built with them (cargo-leptos
    // writes their hashes beside the binary)
    let hashes = server::assets::Hashes::beside_binary();
    let leptos_options = LeptosOptions::builder()
        .hash_files(!hashes.is_empty())
        .output_name("stepwise")
        .site_root(args.site_root.as_str())
        .site_pkg_dir("pkg")
        .site_addr(addr)
        .build();
    let sandbox = server::sandbox::Sandbox::new(server::sandbox::SandboxConfig {
        workers: args.sandbox_workers as usize,
        timeout: std::time::Duration::from_millis(args.eval_timeout_ms),
        memory_mb: args.eval_memory_mb,
        ..Default::default()
    });
    if !allow_hosts.is_empty() {
        tracing::info!(allowed = %allow_hosts, "Http steps may call these internal hosts");
    }
    let engine = Arc::new(
        Engine::new(db.clone(), Arc::new(SystemClock), args.lease_ms)
            .with_step_timeout(args.step_timeout_ms)
            .with_simple_path(args.simple_engine)
            .with_sealer(sealer.clone())
            .with_sandbox(Arc::new(sandbox))
            .with_outbound(server::outbound::Outbound::new(
                allow_hosts,
                args.max_response_bytes,
            )),
    );
    // Several processes on one PostgreSQL database tell each other of new
    // work and of changes pages show.
    if let app::store::Pool::Postgres(pool) = &db.pool {
        server::bus::start(pool.clone(), engine.wakeup(), engine.changes());
    }
    // Leases left by a previous process that died are recovered first.
    match engine.recover().await {
        Ok(0) => {}
        Ok(n) => tracing::info!(
            recovered = n,
            "recovered unfinished work from the last run of the server"
        ),
        Err(e) => return Err(format!("recovery at start-up failed: {e}")),
    }
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let config = EngineConfig {
        workers: args.workers,
        lease_ms: args.lease_ms,
        recovery_every: std::time::Duration::from_millis(args.recovery_ms.max(10)),
    };
    let mut workers = engine.spawn(&config, stop_rx.clone());
    let public_url = args
        .public_url
        .clone()
        .unwrap_or_else(|| format!("http://{addr}"));
    workers.push(engine.spawn_alerts(
        std::time::Duration::from_millis(args.alerts_every_ms),
        public_url.trim_end_matches('/').to_string(),
        stop_rx.clone(),
    ));
    workers.push(engine.spawn_notifier(
        std::time::Duration::from_millis(args.notify_every_ms),
        server::engine::notify::NotifyConfig {
            base_url: public_url.trim_end_matches('/').to_string(),
            digest_hour: args.digest_hour,
        },
        stop_rx.clone(),
    ));
    workers.push(engine.spawn_retention(
        std::time::Duration::from_millis(args.retention_every_ms),
        server::engine::retention::RetentionConfig {
            default_days: args.retention_days,
            ..Default::default()
        },
        stop_rx,
    ));
    tracing::info!(workers = args.workers, "engine started");
    let app = router(
        AppState {
            db: db.clone(),
            leptos_options,
            engine: engine.clone(),
            sealer,
            secure_cookies: args.secure_cookies,
            demo: args.demo,
            hashes,
            deliveries: app::ops::triggers::Deliveries::new(engine.changes()),
            metrics: args.metrics,
        },
        sessions,
        args.max_body_bytes,
    );
    tracing::info!("listening on http://{addr}");
    let (signalled_tx, mut signalled) = tokio::sync::watch::channel(false);
    let mut http = tokio::spawn({
        axum::serve(listener, app)
            .with_graceful_shutdown(async move {
                let _ = signalled.wait_for(|s| *s).await;
            })
            .into_future()
    });
    // Until a signal (or the listener failing).
    tokio::select! {
        _ = shutdown_signal() => {}
        ended = &mut http => {
            return match ended {
                Ok(Ok(())) => Ok(()),
                Ok(Err(e)) => Err(format!("server error: {e}")),
                Err(e) => Err(format!("server error: {e}")),
            };
        }
    }
    // Stop accepting, stop claiming, end the pages' live-update streams;
    // then give the steps in hand and the requests in flight the grace
    // period together.
    let grace = std::time::Duration::from_millis(args.shutdown_grace_ms);
    let deadline = tokio::time::Instant::now() + grace;
    let _ = signalled_tx.send(true);
    let _ = stop_tx.send(true);
    engine.changes().close_streams();
    let mut cut = 0;
    for mut w in workers {
        if tokio::time::timeout_at(deadline, &mut w).await.is_err() {
            w.abort();
            let _ = w.await;
            cut += 1;
        }
    }
    // what did not finish goes back to the queue now, not when its lease
    // runs out
    match engine.release_held().await {
        Ok(0) => {}
        Ok(n) => tracing::warn!(
            steps = n,
            "released steps that did not finish within the grace period"
        ),
        Err(e) => {
            tracing::error!(error = %e, "could not release the steps in hand; their leases will run out")
        }
    }
    if cut > 0 {
        tracing::warn!(
            tasks = cut,
            "stopped engine tasks that did not finish within the grace period"
        );
    }
    if tokio::time::timeout_at(deadline, &mut http).await.is_err() {
        tracing::warn!("requests still in flight at the end of the grace period were cut off");
        http.abort();
    }
    db.close().await;
    tracing::info!("stopped");
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!(
        "shutting down: no new steps are claimed; finishing the steps and requests in hand"
    );
}

use clap::Parser;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt()
        // The EventStoreDB client logs its own connection errors; domreg reports them.
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("DOMREG_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("error,kurrentdb=off")),
        )
        .with_writer(std::io::stderr)
        .init();
    // Two rustls crypto providers are linked in (through different crates); pick one for
    // the TLS clients that ask for the process default (SMTP with STARTTLS).
    let _ = tokio_rustls::rustls::crypto::ring::default_provider().install_default();
    let cli = domreg::cli::Cli::parse();
    match domreg::cli::run(cli).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

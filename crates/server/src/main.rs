#[tokio::main]
async fn main() -> std::process::ExitCode {
    identdesk_server::cli::main().await
}

//! identdesk: the desktop console. The window loads the analyst UI (`ui/dist`); the UI's
//! transport module calls these commands instead of HTTP. Each is a one-line call into
//! identdesk-sync, which owns the sync, the offline cache, the outbox and the keyring.

#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

use identdesk_sync::desk::{Desk, UiError, UiRequest};
use identdesk_sync::{Conflict, Status};
use serde_json::Value;
use tauri::{Manager, State};

#[tauri::command]
async fn api_request(desk: State<'_, Desk>, request: UiRequest) -> Result<Value, UiError> {
    desk.request(request).await
}

#[tauri::command]
async fn api_bytes(desk: State<'_, Desk>, path: String) -> Result<tauri::ipc::Response, UiError> {
    desk.bytes(&path).await.map(tauri::ipc::Response::new)
}

#[tauri::command]
async fn desk_status(desk: State<'_, Desk>) -> Result<Status, UiError> {
    desk.status().await
}

#[tauri::command]
async fn desk_conflicts(desk: State<'_, Desk>) -> Result<Vec<Conflict>, UiError> {
    desk.conflicts().await
}

#[tauri::command]
async fn dismiss_conflict(desk: State<'_, Desk>, seq: i64) -> Result<(), UiError> {
    desk.dismiss_conflict(seq).await
}

/// The sign-in the keyring kept from the last run, if it is still valid.
#[tauri::command]
async fn resume_sign_in(desk: State<'_, Desk>) -> Result<Option<Value>, UiError> {
    Ok(desk.resume().await)
}

/// Why the sign-in is not kept between runs, when no keyring is usable.
#[tauri::command]
fn keyring_problem(desk: State<'_, Desk>) -> Option<String> {
    desk.keyring_problem.clone()
}

fn main() {
    tracing_subscriber::fmt().with_env_filter(tracing_subscriber::EnvFilter::from_default_env()).init();
    let server = std::env::var("IDENTDESK_SERVER").unwrap_or_else(|_| "http://127.0.0.1:8080".into());
    tauri::Builder::default()
        .setup(move |app| {
            let data = app.path().app_data_dir()?;
            app.manage(Desk::new(&server, data));
            Ok(())
        })
        .invoke_handler(tauri::generate_handler![
            api_request,
            api_bytes,
            desk_status,
            desk_conflicts,
            dismiss_conflict,
            resume_sign_in,
            keyring_problem
        ])
        .run(tauri::generate_context!())
        .expect("the desktop window opens");
}

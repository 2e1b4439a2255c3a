//! identdesk: the desktop console. The window loads the analyst UI (`ui/dist`); the UI's
//! transport module calls these commands instead of HTTP. Each is a one-line call into
//! identdesk-sync, which owns the sync, the offline cache, the outbox and the keyring, or into
//! identdesk-media's `CallDesk`, which owns the operator's video call.

#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

use identdesk_media::call_desk::{CallDesk, CallScreen, Ending};
use identdesk_media::MediaError;
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

/// Takes the next waiting applicant and connects the call; `null` when nobody waits.
#[tauri::command]
async fn call_next(desk: State<'_, Desk>, call: State<'_, CallDesk>) -> Result<Option<CallScreen>, MediaError> {
    call.take_next(desk.signed_in().await).await
}

#[tauri::command]
async fn call_screen(call: State<'_, CallDesk>) -> Result<CallScreen, MediaError> {
    call.screen().await
}

/// The next picture of the live view after frame `after`: frame number (4 bytes) and JPEG.
#[tauri::command]
async fn call_frame(call: State<'_, CallDesk>, after: Option<u64>) -> Result<tauri::ipc::Response, MediaError> {
    call.frame(after).await.map(tauri::ipc::Response::new)
}

/// The screenshot the interview asks for next, from the frame on the operator's screen.
#[tauri::command]
async fn call_capture(call: State<'_, CallDesk>, frame: u64) -> Result<CallScreen, MediaError> {
    call.capture(frame).await
}

#[tauri::command]
async fn call_shot(call: State<'_, CallDesk>, n: usize) -> Result<tauri::ipc::Response, MediaError> {
    call.shot_png(n).await.map(tauri::ipc::Response::new)
}

#[tauri::command]
async fn call_read_out(call: State<'_, CallDesk>) -> Result<CallScreen, MediaError> {
    call.confirm_read_out().await
}

#[tauri::command]
async fn call_send_tan(call: State<'_, CallDesk>) -> Result<CallScreen, MediaError> {
    call.send_tan().await
}

#[tauri::command]
async fn call_mute(call: State<'_, CallDesk>, muted: bool) -> Result<CallScreen, MediaError> {
    call.set_muted(muted).await
}

#[tauri::command]
async fn call_end(call: State<'_, CallDesk>, ending: Ending) -> Result<CallScreen, MediaError> {
    call.end(ending).await
}

fn main() {
    tracing_subscriber::fmt().with_env_filter(tracing_subscriber::EnvFilter::from_default_env()).init();
    let server = std::env::var("IDENTDESK_SERVER").unwrap_or_else(|_| "http://127.0.0.1:8080".into());
    tauri::Builder::default()
        .setup(move |app| {
            let data = app.path().app_data_dir()?;
            app.manage(CallDesk::new(data.join("recordings")));
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
            keyring_problem,
            call_next,
            call_screen,
            call_frame,
            call_capture,
            call_shot,
            call_read_out,
            call_send_tan,
            call_mute,
            call_end
        ])
        .run(tauri::generate_context!())
        .expect("the desktop window opens");
}

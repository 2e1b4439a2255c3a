//! The UI's types are generated from the OpenAPI document the server derives from its Rust
//! types. The committed copy must be the current one, so a changed Rust type cannot leave
//! the UI's types behind unnoticed.

use identdesk_server::api::ApiDoc;
use utoipa::OpenApi;

const COMMITTED: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../ui/src/generated/openapi.json");

#[test]
fn the_ui_has_the_current_openapi_document() {
    let current = serde_json::to_string_pretty(&ApiDoc::openapi()).unwrap() + "\n";
    if std::env::var_os("IDENTDESK_BLESS").is_some() {
        std::fs::write(COMMITTED, &current).unwrap();
        return;
    }
    let committed = std::fs::read_to_string(COMMITTED).unwrap();
    assert!(
        committed == current,
        "ui/src/generated/openapi.json is stale: run \
         `IDENTDESK_BLESS=1 cargo test -p identdesk-server --test openapi_committed`, then `npm run gen` in ui/"
    );
}

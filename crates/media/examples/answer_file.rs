//! Development aid: answers an offer read from a file, writes the answer next to it, and
//! saves a screenshot after a few seconds. `cargo run -p identdesk-media --example answer_file -- DIR`
use std::time::Duration;

use identdesk_domain::ScreenshotTag;
use identdesk_media::audio::Tone;
use identdesk_media::{CallConfig, OperatorCall, Screenshot};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt().with_env_filter(std::env::var("RUST_LOG").unwrap_or_else(|_| "info".into())).init();
    let dir = std::path::PathBuf::from(std::env::args().nth(1).expect("DIR"));
    let offer_path = dir.join("offer.sdp");
    while !offer_path.exists() {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    let offer = std::fs::read_to_string(&offer_path)?;
    let (mut call, answer) = OperatorCall::answer(&CallConfig::new(dir.join("rec")), &offer, Box::new(Tone::new(440.0))).await?;
    std::fs::write(dir.join("answer.sdp.part"), &answer)?;
    std::fs::rename(dir.join("answer.sdp.part"), dir.join("answer.sdp"))?;
    let mut events = call.take_events().unwrap();
    tokio::spawn(async move {
        while let Some(e) = events.recv().await {
            println!("event {e:?}");
        }
    });
    for _ in 0..5 {
        tokio::time::sleep(Duration::from_secs(1)).await;
        println!("{:?}", call.quality().await);
    }
    let frame = call.next_frame(Duration::from_secs(5)).await.expect("a frame");
    let shot = Screenshot::capture(&frame, ScreenshotTag::IdFront)?;
    std::fs::write(dir.join("shot.png"), &shot.png)?;
    let files = call.hang_up().await?;
    println!("{files:?}");
    Ok(())
}

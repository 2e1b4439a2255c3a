//! `identdesk-operator`: the media core without a window. `fake-camera` writes the synthetic ID
//! card as a Y4M video for a browser's fake camera; `interview` signs in as a video operator,
//! takes the next waiting applicant and runs the whole guided interview, writing what it
//! captured and measured to a folder (the end-to-end test and the benchmark read it).

use std::path::PathBuf;
use std::time::{Duration, Instant};

use clap::{Parser, Subcommand};
use identdesk_domain::{AbortReason, ScreenshotTag};
use identdesk_media::audio::Tone;
use identdesk_media::call::wait_for_event;
use identdesk_media::session::{OperatorClient, ServerNews};
use identdesk_media::{CallConfig, CallEvent, MediaError, Screenshot};
use serde_json::json;

#[derive(Parser)]
#[command(name = "identdesk-operator", about = "IdentDesk's video-ident media core, headless")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Writes the synthetic ID card as a Y4M video and its source frame as PNG.
    FakeCamera {
        #[arg(long)]
        out: PathBuf,
        #[arg(long)]
        png: PathBuf,
        #[arg(long, default_value_t = 1280)]
        width: u32,
        #[arg(long, default_value_t = 720)]
        height: u32,
        #[arg(long, default_value_t = 60)]
        frames: u32,
    },
    /// Prints the PSNR (dB) of a screenshot against the source frame, at the best alignment
    /// within a few pixels (a camera pipeline may shift the picture slightly).
    Compare { screenshot: PathBuf, source: PathBuf },
    /// Runs one guided interview against a server.
    Interview {
        #[arg(long)]
        server: String,
        #[arg(long)]
        email: String,
        /// The operator's password; read from IDENTDESK_OPERATOR_PASSWORD when not given.
        #[arg(long, env = "IDENTDESK_OPERATOR_PASSWORD", hide_env_values = true)]
        password: String,
        /// Where screenshots, the recording and summary.json go.
        #[arg(long)]
        out: PathBuf,
        /// Abort with this reason after the ID front screenshot instead of finishing.
        #[arg(long)]
        abort_after_front: Option<String>,
        /// How long to wait for a waiting applicant.
        #[arg(long, default_value_t = 30)]
        wait_secs: u64,
    },
}

#[tokio::main]
async fn main() {
    tracing_subscriber::fmt()
        .with_env_filter(std::env::var("RUST_LOG").unwrap_or_else(|_| "warn".into()))
        .with_writer(std::io::stderr)
        .init();
    let result = match Cli::parse().command {
        Command::FakeCamera { out, png, width, height, frames } => fake_camera(out, png, width, height, frames),
        Command::Compare { screenshot, source } => compare(&screenshot, &source),
        Command::Interview { server, email, password, out, abort_after_front, wait_secs } => {
            interview(&server, &email, &password, &out, abort_after_front, wait_secs).await
        }
    };
    if let Err(e) = result {
        eprintln!("identdesk-operator: {e}");
        std::process::exit(1);
    }
}

fn fake_camera(out: PathBuf, png: PathBuf, width: u32, height: u32, frames: u32) -> Result<(), MediaError> {
    let card = identdesk_media::fake_camera::card(width, height);
    identdesk_media::fake_camera::write_y4m(&out, &card, frames, 30)?;
    card.into_image().save(&png).map_err(|e| MediaError::Codec(e.to_string()))?;
    Ok(())
}

fn compare(screenshot: &std::path::Path, source: &std::path::Path) -> Result<(), MediaError> {
    let load = |p: &std::path::Path| {
        image::open(p)
            .map(|i| identdesk_media::Rgb::from_image(&i.to_rgb8()))
            .map_err(|e| MediaError::Codec(format!("{}: {e}", p.display())))
    };
    let (shot, source) = (load(screenshot)?, load(source)?);
    let (psnr, dx, dy) = identdesk_media::frame::aligned_psnr(&shot, &source, 4);
    println!("{}", json!({"psnr": psnr, "dx": dx, "dy": dy, "width": shot.width, "height": shot.height}));
    Ok(())
}

async fn sign_in(server: &str, email: &str, password: &str) -> Result<String, MediaError> {
    let response = reqwest::Client::new()
        .post(format!("{}/api/v1/auth/login", server.trim_end_matches('/')))
        .json(&json!({"email": email, "password": password}))
        .send()
        .await
        .map_err(|e| MediaError::Timeout(format!("server unreachable: {}", e.without_url())))?;
    let status = response.status();
    let body: serde_json::Value = response.json().await.unwrap_or_default();
    body["token"].as_str().map(str::to_owned).ok_or(MediaError::Server {
        status: status.as_u16(),
        code: body["code"].as_str().unwrap_or("LOGIN").to_owned(),
        message: body["message"].as_str().unwrap_or("sign-in failed").to_owned(),
    })
}

async fn interview(
    server: &str,
    email: &str,
    password: &str,
    out: &std::path::Path,
    abort_after_front: Option<String>,
    wait_secs: u64,
) -> Result<(), MediaError> {
    std::fs::create_dir_all(out)?;
    let token = sign_in(server, email, password).await?;
    let client = OperatorClient::new(server, &token);
    let deadline = Instant::now() + Duration::from_secs(wait_secs);
    let plan = loop {
        if let Some(plan) = client.next().await? {
            break plan;
        }
        if Instant::now() > deadline {
            return Err(MediaError::Timeout("no applicant was waiting".into()));
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    let session = plan.session.id.clone();
    let config = CallConfig::new(out.join("recording"));
    let (mut call, mut news) =
        client.connect(&plan, &config, Box::new(Tone::new(440.0)), Duration::from_secs(20)).await?;
    let mut events = call.take_events().expect("events");
    let wanted = |e: &CallEvent| matches!(e, CallEvent::FirstFrame { .. } | CallEvent::Failed);
    let first_frame_ms = match wait_for_event(&mut events, wanted, Duration::from_secs(10)).await {
        Some(CallEvent::FirstFrame { after_answer }) => after_answer.as_secs_f64() * 1000.0,
        Some(_) => return Err(MediaError::WebRtc("the call failed to connect".into())),
        None => return Err(MediaError::Timeout("no picture arrived".into())),
    };
    // Let the sender's bitrate settle before the evidence is taken.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let mut tags = vec![ScreenshotTag::IdFront, ScreenshotTag::IdBack];
    tags.extend((1..=plan.features.len() as u8).map(ScreenshotTag::SecurityFeature));
    tags.push(ScreenshotTag::Face);
    let mut shots = Vec::new();
    let mut capture_ms = Vec::new();
    for tag in tags {
        let frame = call.next_frame(Duration::from_secs(5)).await.ok_or(MediaError::Timeout("no frame".into()))?;
        let started = Instant::now();
        let shot = Screenshot::capture(&frame, tag)?;
        let stored = client.upload_screenshot(&session, &shot).await?;
        capture_ms.push(started.elapsed().as_secs_f64() * 1000.0);
        let path = out.join(format!("{tag}.png"));
        std::fs::write(&path, &shot.png)?;
        shots.push(json!({"tag": tag.as_string(), "path": path, "sha256": shot.sha256, "evidenceId": stored.id,
            "width": shot.width, "height": shot.height}));
        if tag == ScreenshotTag::IdFront {
            if let Some(reason) = &abort_after_front {
                let reason: AbortReason =
                    reason.parse().map_err(|e: identdesk_domain::DomainError| MediaError::Codec(e.to_string()))?;
                client.abort(&session, reason).await?;
                let files = call.hang_up().await?;
                client.upload_recording(&session, &files).await?;
                return write_summary(out, json!({"sessionId": session, "aborted": reason, "screenshots": shots}));
            }
        }
    }
    client.confirm_read_out(&session).await?;
    client.send_tan(&session).await?;
    match tokio::time::timeout(Duration::from_secs(60), news.recv()).await {
        Ok(Some(ServerNews::TanConfirmed)) => {}
        Ok(_) => return Err(MediaError::WebRtc("the applicant left before entering the TAN".into())),
        Err(_) => return Err(MediaError::Timeout("the TAN was not entered in time".into())),
    }
    let quality = call.quality().await;
    client.finish(&session).await?;
    let call_ms = call.elapsed().as_secs_f64() * 1000.0;
    let files = call.hang_up().await?;
    client.upload_recording(&session, &files).await?;
    let audio =
        |p: &std::path::Path| std::fs::read(p).ok().and_then(|b| identdesk_media::recording::ogg_duration_ms(&b));
    // The recording as a player would see it: every frame decoded again from the file.
    let (decoded_frames, decoded_ms) = identdesk_media::recording::decode_ivf(&std::fs::read(&files.applicant_video)?)?;
    write_summary(
        out,
        json!({
            "sessionId": session,
            "firstFrameMs": first_frame_ms,
            "callMs": call_ms,
            "screenshotToStoredMs": capture_ms,
            "screenshots": shots,
            "quality": quality,
            "recording": {
                "videoFrames": decoded_frames,
                "videoDurationMs": decoded_ms,
                "videoFramesWritten": files.video_frames,
                "applicantAudioMs": audio(&files.applicant_audio),
                "operatorAudioMs": audio(&files.operator_audio),
            }
        }),
    )
}

fn write_summary(out: &std::path::Path, summary: serde_json::Value) -> Result<(), MediaError> {
    std::fs::write(out.join("summary.json"), serde_json::to_vec_pretty(&summary).expect("JSON"))?;
    println!("{summary}");
    Ok(())
}

//! The media core facing a bad peer: garbage instead of an offer, and an offer from a peer that
//! then never answers ICE. Each ends with a clear error or an empty, well-formed recording, never
//! a panic or a hang.

use std::time::Duration;

use identdesk_media::audio::Tone;
use identdesk_media::call::wait_for_event;
use identdesk_media::{CallConfig, CallEvent, MediaError, OperatorCall};

/// A browser's offer (audio Opus, video VP8) whose only candidate is the discard port: nothing
/// there will ever answer a connectivity check.
fn silent_offer() -> String {
    [
        "v=0",
        "o=- 7111621671859610918 2 IN IP4 127.0.0.1",
        "s=-",
        "t=0 0",
        "a=group:BUNDLE 0 1",
        "m=audio 9 UDP/TLS/RTP/SAVPF 111",
        "c=IN IP4 127.0.0.1",
        "a=candidate:1 1 udp 2122194687 127.0.0.1 9 typ host generation 0",
        "a=ice-ufrag:5BLv",
        "a=ice-pwd:tRIcggDH7JR9OuEwnhm8Rqpt",
        "a=fingerprint:sha-256 C0:86:61:52:DA:1C:33:92:3E:A9:68:F6:9E:2C:FE:90:47:EC:8D:C1:7C:6B:02:62:90:4D:DC:5F:6C:E8:94:17",
        "a=setup:actpass",
        "a=mid:0",
        "a=sendrecv",
        "a=rtcp-mux",
        "a=rtpmap:111 opus/48000/2",
        "a=fmtp:111 minptime=10;useinbandfec=1",
        "a=ssrc:1001 cname:applicant",
        "m=video 9 UDP/TLS/RTP/SAVPF 96",
        "c=IN IP4 127.0.0.1",
        "a=ice-ufrag:5BLv",
        "a=ice-pwd:tRIcggDH7JR9OuEwnhm8Rqpt",
        "a=fingerprint:sha-256 C0:86:61:52:DA:1C:33:92:3E:A9:68:F6:9E:2C:FE:90:47:EC:8D:C1:7C:6B:02:62:90:4D:DC:5F:6C:E8:94:17",
        "a=setup:actpass",
        "a=mid:1",
        "a=sendrecv",
        "a=rtcp-mux",
        "a=rtpmap:96 VP8/90000",
        "a=rtcp-fb:96 nack pli",
        "a=ssrc:1002 cname:applicant",
        "",
    ]
    .join("\r\n")
}

#[tokio::test]
async fn garbage_sdp_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    for garbage in ["", "hello", "v=0\r\nm=video nonsense\r\n", &"x".repeat(100_000)] {
        let result = OperatorCall::answer(&CallConfig::new(dir.path()), garbage, Box::new(Tone::new(440.0))).await;
        match result {
            Err(MediaError::InvalidSdp(message)) => assert!(!message.is_empty()),
            Err(other) => panic!("garbage {:?}: expected InvalidSdp, got {other}", &garbage[..garbage.len().min(20)]),
            Ok(_) => panic!("garbage {:?} was answered", &garbage[..garbage.len().min(20)]),
        }
    }
}

#[tokio::test]
async fn a_peer_that_never_answers_ends_without_pictures_or_a_hang() {
    let dir = tempfile::tempdir().unwrap();
    let (mut call, answer) =
        OperatorCall::answer(&CallConfig::new(dir.path()), &silent_offer(), Box::new(Tone::new(440.0))).await.unwrap();
    assert!(answer.contains("m=video"), "the answer takes the video");
    let mut events = call.take_events().unwrap();
    let connected = wait_for_event(&mut events, |e| *e == CallEvent::Connected, Duration::from_secs(3)).await.is_some();
    assert!(!connected, "nothing answered, so nothing connected");
    assert!(call.next_frame(Duration::from_millis(500)).await.is_none());
    let files =
        tokio::time::timeout(Duration::from_secs(10), call.hang_up()).await.expect("hang-up does not hang").unwrap();
    assert_eq!(files.video_frames, 0);
    assert!(files.operator_audio.exists(), "the recording's files exist, empty but valid");
}

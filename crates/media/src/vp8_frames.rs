//! Reassembles VP8 frames from RTP packets as soon as a frame's last packet (the marker) is in,
//! rather than when the next frame starts: that would add a whole frame interval (33 ms at
//! 30 fps) to what the operator sees. Packets may arrive out of order within a frame; a frame
//! that never completes is dropped and reported, so the caller can ask for a keyframe.

use std::collections::BTreeMap;

use bytes::Bytes;
use rtc::rtp::codec::vp8::Vp8Packet;
use rtc::rtp::packetizer::Depacketizer;
use rtc::rtp::Packet;

/// A whole VP8 frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Vp8Frame {
    pub data: Vec<u8>,
    pub rtp_timestamp: u32,
    /// Frames were lost since the previous one: the decoder needs a keyframe.
    pub after_loss: bool,
}

#[derive(Default)]
pub struct Vp8Assembler {
    timestamp: Option<u32>,
    /// This frame's packets by sequence number, relative to the first one seen.
    packets: BTreeMap<i32, Bytes>,
    base_seq: u16,
    start: Option<i32>,
    end: Option<i32>,
    last_done: Option<u32>,
    lost: bool,
}

impl Vp8Assembler {
    pub fn push(&mut self, packet: Packet) -> Option<Vp8Frame> {
        let ts = packet.header.timestamp;
        if self.last_done == Some(ts) || packet.payload.is_empty() {
            // A late copy of a finished frame, or padding.
            return None;
        }
        if self.timestamp != Some(ts) {
            if self.timestamp.is_some() {
                // The previous frame never completed.
                self.lost = true;
            }
            self.timestamp = Some(ts);
            self.packets.clear();
            self.base_seq = packet.header.sequence_number;
            self.start = None;
            self.end = None;
        }
        let at = packet.header.sequence_number.wrapping_sub(self.base_seq) as i16 as i32;
        if Vp8Packet::default().is_partition_head(&packet.payload) {
            self.start = Some(self.start.map_or(at, |s| s.min(at)));
        }
        if packet.header.marker {
            self.end = Some(at);
        }
        self.packets.insert(at, packet.payload);
        let (start, end) = (self.start?, self.end?);
        if end < start || self.packets.range(start..=end).count() != (end - start + 1) as usize {
            return None;
        }
        let mut depacketizer = Vp8Packet::default();
        let mut data = Vec::new();
        for payload in self.packets.range(start..=end).map(|(_, p)| p) {
            match depacketizer.depacketize(payload) {
                Ok(part) => data.extend_from_slice(&part),
                Err(_) => {
                    self.lost = true;
                    self.timestamp = None;
                    return None;
                }
            }
        }
        self.last_done = Some(ts);
        self.timestamp = None;
        self.packets.clear();
        let after_loss = std::mem::take(&mut self.lost);
        Some(Vp8Frame { data, rtp_timestamp: ts, after_loss })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn packet(seq: u16, ts: u32, start: bool, marker: bool, body: &[u8]) -> Packet {
        let mut p = Packet::default();
        p.header.sequence_number = seq;
        p.header.timestamp = ts;
        p.header.marker = marker;
        // VP8 payload descriptor: one byte, S bit for the partition start.
        let mut payload = vec![if start { 0x10 } else { 0x00 }];
        payload.extend_from_slice(body);
        p.payload = Bytes::from(payload);
        p
    }

    #[test]
    fn a_frame_is_out_as_soon_as_its_last_packet_is_in_even_out_of_order() {
        let mut a = Vp8Assembler::default();
        assert!(a.push(packet(65535, 9, true, false, b"aaaa")).is_none());
        assert!(a.push(packet(1, 9, false, true, b"cccc")).is_none());
        let f = a.push(packet(0, 9, false, false, b"bbbb")).expect("complete");
        assert_eq!(f.data, b"aaaabbbbcccc");
        assert!(!f.after_loss);
        // A late duplicate is ignored.
        assert!(a.push(packet(0, 9, false, false, b"bbbb")).is_none());
    }

    #[test]
    fn an_incomplete_frame_is_reported_as_loss() {
        let mut a = Vp8Assembler::default();
        assert!(a.push(packet(10, 100, true, false, b"xxxx")).is_none());
        let f = a.push(packet(13, 200, true, true, b"yyyy")).expect("next frame");
        assert!(f.after_loss);
        assert_eq!(f.data, b"yyyy");
    }
}

//! A baseline JPEG decoded at a quarter of its width and height, on several cores.
//!
//! The quality measures only need a large photo at about 1,000 pixels across, so each 8×8 block
//! becomes 2×2 pixels: the averages of its four 4×4 quadrants, computed straight from the few
//! DCT coefficients that contribute to them (no inverse DCT). What remains is reading the
//! Huffman-coded data, which is sequential by nature; this is where a 12-megapixel photo spends
//! its time. Two ways to spread it over cores:
//!
//! - with restart markers, each restart interval starts afresh: intervals are shared out;
//! - without, the data is cut into equal pieces and every piece after the first is decoded from
//!   a guess (a block begins at the piece's first bit). Huffman codes resynchronise quickly, so
//!   the guess soon lands on the true block boundaries: the decoder that knows the truth keeps
//!   going past its piece's end until it reaches a block start the next piece also found, at
//!   the same bit and at the same place in the MCU, and from there the next piece's blocks are
//!   the true ones. Should the pieces never meet, the true decoder simply reads on: slower, never
//!   wrong.
//!
//! Anything else (progressive or arithmetic coding, 12-bit samples, CMYK, damaged data) gives
//! `None`, and the caller decodes the file the ordinary way.

use std::f32::consts::PI;
use std::ops::Range;

use image::{DynamicImage, GrayImage, RgbImage};

/// Pieces shorter than this are not worth a thread.
const MIN_PIECE_BYTES: usize = 96 * 1024;

/// Zero bytes after the coded data, so that reading a whole block never runs off the end.
const PADDING: usize = 264;

/// Natural (row-major) index of each coefficient in zig-zag order.
const ZIGZAG: [usize; 64] = [
    0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5, 12, 19, 26, 33, 40, 48, 41, 34, 27, 20, 13, 6, 7, 14, 21,
    28, 35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51, 58, 59, 52, 45, 38, 31, 39, 46, 53, 60, 61, 54,
    47, 55, 62, 63,
];

/// Decodes `bytes` at a quarter of its size (rounded up) using up to `threads` threads.
pub fn decode(bytes: &[u8], threads: usize) -> Option<DynamicImage> {
    decode_with(bytes, threads, MIN_PIECE_BYTES)
}

fn decode_with(bytes: &[u8], threads: usize, min_piece: usize) -> Option<DynamicImage> {
    let jpeg = parse(bytes)?;
    let blocks = jpeg.decode_blocks(threads.max(1), min_piece)?;
    Some(jpeg.picture(&blocks))
}

/// One Huffman table, with a 9-bit lookup for the short codes.
struct Huffman {
    /// `length << 8 | symbol` for codes of up to 9 bits, indexed by the next 9 bits; 0 otherwise.
    fast: [u16; 512],
    /// The largest code of each length (-1: none), and what to add to a code to index `values`.
    max_code: [i32; 17],
    offset: [i32; 17],
    values: Vec<u8>,
}

impl Huffman {
    fn new(counts: &[u8; 16], values: Vec<u8>) -> Option<Huffman> {
        let mut table = Huffman { fast: [0; 512], max_code: [-1; 17], offset: [0; 17], values };
        let (mut code, mut index) = (0i32, 0usize);
        for length in 1..=16 {
            let count = usize::from(counts[length - 1]);
            table.offset[length] = index as i32 - code;
            for _ in 0..count {
                let symbol = *table.values.get(index)?;
                if length <= 9 {
                    let first = (code as usize) << (9 - length);
                    for entry in &mut table.fast[first..first + (1 << (9 - length))] {
                        *entry = (length as u16) << 8 | u16::from(symbol);
                    }
                }
                code += 1;
                index += 1;
            }
            if count > 0 {
                table.max_code[length] = code - 1;
            }
            // A code that no longer fits its length: the table is not a prefix code.
            if code > 1 << length {
                return None;
            }
            code <<= 1;
        }
        Some(table)
    }

    /// The symbol at the front of `bits` and its code's length.
    #[inline(always)]
    fn symbol(&self, bits: u64) -> Option<(u8, u32)> {
        let entry = self.fast[(bits >> 55) as usize];
        if entry != 0 {
            return Some((entry as u8, u32::from(entry >> 8)));
        }
        for length in 10..=16 {
            let code = (bits >> (64 - length)) as i32;
            if code <= self.max_code[length] {
                let symbol = *self.values.get((code + self.offset[length]) as usize)?;
                return Some((symbol, length as u32));
            }
        }
        None
    }
}

struct Component {
    id: u8,
    h: usize,
    v: usize,
    quant: usize,
    dc: usize,
    ac: usize,
}

/// What one block contributes to the picture: the change of its DC coefficient (the value
/// itself needs every earlier block of its component) and the part of its four quadrant
/// averages that the other coefficients make.
#[derive(Clone, Copy, Default)]
struct Block {
    dc_diff: i32,
    quadrants: [f32; 4],
}

/// The decoder's place: a bit in the coded data and which block of the MCU begins there.
#[derive(Clone, Copy, PartialEq, Eq)]
struct Place {
    bit: usize,
    slot: usize,
}

/// The blocks one decoder read, from where it started to where it stopped.
struct Run {
    blocks: Vec<Block>,
    /// Where each block began: for the true decoder to find where it meets this run.
    starts: Vec<Place>,
    end: Place,
    /// The run hit data that cannot be decoded; right only if it never mattered.
    damaged: bool,
}

struct Jpeg {
    width: usize,
    height: usize,
    components: Vec<Component>,
    dc_tables: Vec<Option<Huffman>>,
    ac_tables: Vec<Option<Huffman>>,
    /// Per component: each zig-zag coefficient's share in each quadrant, with its quantiser.
    weights: Vec<[[f32; 4]; 64]>,
    /// Per component: which zig-zag positions have any share at all.
    weighted: Vec<u64>,
    dc_quant: Vec<f32>,
    /// The component of each block in an MCU, in order.
    slots: Vec<usize>,
    mcus_across: usize,
    mcus_down: usize,
    restart_interval: usize,
    /// The coded data with stuffing and restart markers taken out, zero-padded.
    data: Vec<u8>,
    /// The restart intervals, as byte ranges of `data` (one range without restart markers).
    intervals: Vec<Range<usize>>,
}

fn be16(bytes: &[u8], at: usize) -> Option<usize> {
    Some(usize::from(*bytes.get(at)?) << 8 | usize::from(*bytes.get(at + 1)?))
}

fn parse(bytes: &[u8]) -> Option<Jpeg> {
    if bytes.get(..2)? != [0xFF, 0xD8] {
        return None;
    }
    let mut quant: [Option<[u16; 64]>; 4] = [None; 4];
    let mut dc_tables: Vec<Option<Huffman>> = (0..4).map(|_| None).collect();
    let mut ac_tables: Vec<Option<Huffman>> = (0..4).map(|_| None).collect();
    let (mut frame, mut restart_interval) = (None, 0usize);
    let mut at = 2;
    loop {
        // Markers may be preceded by any number of fill bytes.
        while *bytes.get(at)? == 0xFF && *bytes.get(at + 1)? == 0xFF {
            at += 1;
        }
        if *bytes.get(at)? != 0xFF {
            return None;
        }
        let marker = *bytes.get(at + 1)?;
        let length = be16(bytes, at + 2)?;
        let body = bytes.get(at + 4..at + 2 + length)?;
        match marker {
            // Baseline or extended sequential Huffman; anything else is left to the full decoder.
            0xC0 | 0xC1 => frame = Some(parse_frame(body)?),
            0xC2 | 0xC3 | 0xC5..=0xC7 | 0xC9..=0xCB | 0xCD..=0xCF => return None,
            0xDB => parse_quant(body, &mut quant)?,
            0xC4 => parse_huffman(body, &mut dc_tables, &mut ac_tables)?,
            0xDD => restart_interval = be16(body, 0)?,
            // An Adobe segment saying the samples are not YCbCr.
            0xEE if body.starts_with(b"Adobe") && body.get(11) != Some(&1) => return None,
            0xDA => {
                let (width, height, mut components) = frame?;
                let scan_start = at + 2 + length;
                apply_scan(body, &mut components)?;
                return build(
                    width,
                    height,
                    components,
                    &quant,
                    dc_tables,
                    ac_tables,
                    restart_interval,
                    bytes,
                    scan_start,
                );
            }
            0xD9 => return None,
            _ => {}
        }
        at += 2 + length;
    }
}

type Frame = (usize, usize, Vec<Component>);

fn parse_frame(body: &[u8]) -> Option<Frame> {
    if *body.first()? != 8 {
        return None;
    }
    let (height, width, count) = (be16(body, 1)?, be16(body, 3)?, usize::from(*body.get(5)?));
    if width == 0 || height == 0 || !(count == 1 || count == 3) {
        return None;
    }
    let mut components = Vec::with_capacity(count);
    for i in 0..count {
        let c = body.get(6 + 3 * i..9 + 3 * i)?;
        let (h, v) = (usize::from(c[1] >> 4), usize::from(c[1] & 15));
        if !(1..=4).contains(&h) || !(1..=4).contains(&v) || c[2] > 3 {
            return None;
        }
        components.push(Component { id: c[0], h, v, quant: usize::from(c[2]), dc: 0, ac: 0 });
    }
    Some((width, height, components))
}

fn parse_quant(mut body: &[u8], quant: &mut [Option<[u16; 64]>; 4]) -> Option<()> {
    while let Some(&head) = body.first() {
        let (wide, id) = (head >> 4 == 1, usize::from(head & 15));
        let size = if wide { 128 } else { 64 };
        let values = body.get(1..1 + size)?;
        let mut table = [0u16; 64];
        for (k, q) in table.iter_mut().enumerate() {
            *q = if wide { u16::from(values[2 * k]) << 8 | u16::from(values[2 * k + 1]) } else { u16::from(values[k]) };
        }
        *quant.get_mut(id)? = Some(table);
        body = &body[1 + size..];
    }
    Some(())
}

fn parse_huffman(mut body: &[u8], dc: &mut [Option<Huffman>], ac: &mut [Option<Huffman>]) -> Option<()> {
    while let Some(&head) = body.first() {
        let (class, id) = (head >> 4, usize::from(head & 15));
        let counts: [u8; 16] = body.get(1..17)?.try_into().ok()?;
        let total: usize = counts.iter().map(|&c| usize::from(c)).sum();
        let values = body.get(17..17 + total)?.to_vec();
        let table = Huffman::new(&counts, values)?;
        match class {
            0 => *dc.get_mut(id)? = Some(table),
            1 => *ac.get_mut(id)? = Some(table),
            _ => return None,
        }
        body = &body[17 + total..];
    }
    Some(())
}

/// Reads the scan header: one scan with every component, all coefficients, no approximation.
fn apply_scan(body: &[u8], components: &mut [Component]) -> Option<()> {
    let count = usize::from(*body.first()?);
    if count != components.len() {
        return None;
    }
    for i in 0..count {
        let spec = body.get(1 + 2 * i..3 + 2 * i)?;
        let component = components.get_mut(i).filter(|c| c.id == spec[0])?;
        (component.dc, component.ac) = (usize::from(spec[1] >> 4), usize::from(spec[1] & 15));
        if component.dc > 3 || component.ac > 3 {
            return None;
        }
    }
    (body.get(1 + 2 * count..4 + 2 * count)? == [0, 63, 0]).then_some(())
}

#[allow(clippy::too_many_arguments)]
fn build(
    width: usize,
    height: usize,
    mut components: Vec<Component>,
    quant: &[Option<[u16; 64]>; 4],
    dc_tables: Vec<Option<Huffman>>,
    ac_tables: Vec<Option<Huffman>>,
    restart_interval: usize,
    bytes: &[u8],
    scan_start: usize,
) -> Option<Jpeg> {
    if components.len() == 1 {
        // A single component is not interleaved: its blocks are its MCUs, whatever its factors.
        (components[0].h, components[0].v) = (1, 1);
    }
    let h_max = components.iter().map(|c| c.h).max()?;
    let v_max = components.iter().map(|c| c.v).max()?;
    if components.iter().any(|c| h_max % c.h != 0 || v_max % c.v != 0) {
        return None;
    }
    let slots: Vec<usize> =
        components.iter().enumerate().flat_map(|(i, c)| std::iter::repeat_n(i, c.h * c.v)).collect();
    if slots.len() > 10 {
        return None;
    }
    for c in &components {
        dc_tables[c.dc].as_ref()?;
        ac_tables[c.ac].as_ref()?;
    }
    let (mut weights, mut weighted, mut dc_quant) = (Vec::new(), Vec::new(), Vec::new());
    for c in &components {
        let q = quant[c.quant]?;
        let (w, mask) = quadrant_weights(&q);
        weights.push(w);
        weighted.push(mask);
        dc_quant.push(f32::from(q[0]));
    }
    let (data, intervals) = coded_data(bytes, scan_start)?;
    if restart_interval == 0 && intervals.len() > 1 {
        return None;
    }
    Some(Jpeg {
        width,
        height,
        mcus_across: width.div_ceil(8 * h_max),
        mcus_down: height.div_ceil(8 * v_max),
        components,
        dc_tables,
        ac_tables,
        weights,
        weighted,
        dc_quant,
        slots,
        restart_interval,
        data,
        intervals,
    })
}

/// Each coefficient's share in the average of each 4×4 quadrant of its block (top-left,
/// top-right, bottom-left, bottom-right), in zig-zag order and times its quantiser. From the
/// inverse DCT: a quadrant's average of cos((2x+1)uπ/16) is zero for even u > 0, so only the
/// first row and column and the odd ones count; the DC coefficient is handled apart.
fn quadrant_weights(quant: &[u16; 64]) -> ([[f32; 4]; 64], u64) {
    let half_mean = |u: usize| (0..4).map(|x| ((2 * x + 1) as f32 * u as f32 * PI / 16.0).cos()).sum::<f32>() / 4.0;
    let scale = |u: usize| if u == 0 { std::f32::consts::FRAC_1_SQRT_2 } else { 1.0 };
    let (mut weights, mut mask) = ([[0f32; 4]; 64], 0u64);
    for (k, &natural) in ZIGZAG.iter().enumerate().skip(1) {
        let (u, v) = (natural % 8, natural / 8);
        if (u != 0 && u % 2 == 0) || (v != 0 && v % 2 == 0) {
            continue;
        }
        let (mu, mv) = (half_mean(u), half_mean(v));
        let base = 0.25 * scale(u) * scale(v) * mu * mv * f32::from(quant[k]);
        // In the right (bottom) half the odd cosines change sign.
        let (sx, sy) = (if u % 2 == 1 { -1.0 } else { 1.0 }, if v % 2 == 1 { -1.0 } else { 1.0 });
        weights[k] = [base, base * sx, base * sy, base * sx * sy];
        mask |= 1 << k;
    }
    (weights, mask)
}

/// The entropy-coded data of the scan starting at `start`, unstuffed, split at restart markers.
fn coded_data(bytes: &[u8], start: usize) -> Option<(Vec<u8>, Vec<Range<usize>>)> {
    let rest = bytes.get(start..)?;
    let mut data = vec![0u8; rest.len() + PADDING];
    let mut intervals = Vec::new();
    let (mut interval_start, mut written, mut at) = (0, 0, 0);
    // Byte by byte: in coded data a 0xFF comes every few dozen bytes, too often for a search.
    while let Some(&byte) = rest.get(at) {
        if byte != 0xFF {
            data[written] = byte;
            written += 1;
            at += 1;
            continue;
        }
        match *rest.get(at + 1)? {
            0x00 => {
                data[written] = 0xFF;
                written += 1;
                at += 2;
            }
            0xFF => at += 1,
            0xD0..=0xD7 => {
                intervals.push(interval_start..written);
                interval_start = written;
                at += 2;
            }
            _ => {
                intervals.push(interval_start..written);
                data.truncate(written + PADDING);
                return Some((data, intervals));
            }
        }
    }
    // No marker after the data: a truncated file.
    None
}

/// A reader of the coded data that loads a word only when fewer bits are left in it than one
/// code and its value can take (16 + 15): two symbols are usually read from one load.
struct Bits<'a> {
    data: &'a [u8],
    bit: usize,
    /// The bits from `bit` on, first bit highest; `left` of them are valid.
    word: u64,
    left: u32,
}

impl<'a> Bits<'a> {
    #[inline(always)]
    fn at(data: &'a [u8], bit: usize) -> Bits<'a> {
        let mut bits = Bits { data, bit, word: 0, left: 0 };
        bits.load();
        bits
    }

    #[inline(always)]
    fn load(&mut self) {
        let at = self.bit >> 3;
        self.word = match self.data.get(at..at + 8) {
            Some(word) => u64::from_be_bytes(word.try_into().unwrap_or_default()) << (self.bit & 7),
            None => 0,
        };
        self.left = 64 - (self.bit & 7) as u32;
    }

    #[inline(always)]
    fn refill(&mut self) {
        if self.left < 31 {
            self.load();
        }
    }

    #[inline(always)]
    fn consume(&mut self, count: u32) {
        self.word <<= count;
        self.left -= count;
        self.bit += count as usize;
    }
}

/// The signed value of an `size`-bit magnitude category (JPEG's EXTEND).
#[inline(always)]
fn extend(raw: i32, size: u32) -> i32 {
    if raw < 1 << (size - 1) {
        raw - (1 << size) + 1
    } else {
        raw
    }
}

impl Jpeg {
    fn coded_bits(&self) -> usize {
        self.intervals.last().map_or(0, |i| i.end * 8)
    }

    fn blocks_per_mcu(&self) -> usize {
        self.slots.len()
    }

    fn total_blocks(&self) -> usize {
        self.mcus_across * self.mcus_down * self.blocks_per_mcu()
    }

    /// Every block of the scan, in coded order.
    fn decode_blocks(&self, threads: usize, min_piece: usize) -> Option<Vec<Block>> {
        let total = self.total_blocks();
        let coded_end = self.coded_bits() / 8;
        let mut blocks = if self.restart_interval > 0 {
            self.decode_intervals(threads)?
        } else {
            let pieces = threads.min(coded_end / min_piece.max(1)).max(1);
            self.decode_pieces(pieces, total)?
        };
        if blocks.len() < total {
            return None;
        }
        blocks.truncate(total);
        Some(blocks)
    }

    /// With restart markers: whole intervals shared out among the threads, each decoded exactly.
    fn decode_intervals(&self, threads: usize) -> Option<Vec<Block>> {
        let per_interval = self.restart_interval * self.blocks_per_mcu();
        let total = self.total_blocks();
        let share = self.intervals.len().div_ceil(threads).max(1);
        let decoded: Vec<Option<Vec<Block>>> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..self.intervals.len())
                .step_by(share)
                .map(|first| {
                    scope.spawn(move || {
                        let mut blocks = Vec::with_capacity(share * per_interval);
                        for (index, interval) in self.intervals.iter().enumerate().skip(first).take(share) {
                            let expected = per_interval.min(total.saturating_sub(index * per_interval));
                            let from = Place { bit: interval.start * 8, slot: 0 };
                            let run = self.run(from, interval.end * 8, expected, false);
                            if run.blocks.len() != expected {
                                return None;
                            }
                            blocks.extend_from_slice(&run.blocks);
                        }
                        Some(blocks)
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().ok().flatten()).collect()
        });
        let mut blocks = Vec::with_capacity(total);
        for group in decoded {
            blocks.extend(group?);
        }
        Some(blocks)
    }

    /// Without restart markers: `pieces` equal pieces, all but the first decoded from a guess,
    /// then joined where the true decoder meets each.
    fn decode_pieces(&self, pieces: usize, total: usize) -> Option<Vec<Block>> {
        let coded_bits = self.coded_bits();
        let cut = |i: usize| coded_bits / 8 * i / pieces * 8;
        let runs: Vec<Run> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..pieces)
                .map(|i| {
                    let (from, to) = (cut(i), if i + 1 == pieces { coded_bits } else { cut(i + 1) });
                    scope.spawn(move || self.run(Place { bit: from, slot: 0 }, to, total, i > 0))
                })
                .collect();
            handles.into_iter().map(|h| h.join().ok()).collect::<Option<Vec<Run>>>()
        })?;
        let mut runs = runs.into_iter();
        let first = runs.next()?;
        if first.damaged {
            return None;
        }
        let (mut blocks, mut place) = (first.blocks, first.end);
        for next in runs {
            // The true decoder reads on until it stands where `next` once stood.
            let (bridge, met) = self.bridge(place, &next, total.saturating_sub(blocks.len()));
            blocks.extend_from_slice(&bridge.blocks);
            match met {
                // A guess never ends damaged (it guesses again), so from here on it is the truth.
                Some(index) => {
                    blocks.extend_from_slice(&next.blocks[index..]);
                    place = next.end;
                }
                None if bridge.damaged => return None,
                None => place = bridge.end,
            }
        }
        Some(blocks)
    }

    /// Decodes from `from` (a true place) until it reaches one of `next`'s block starts, or
    /// `next`'s end; returns what it read and the index in `next` of the block where they met.
    fn bridge(&self, from: Place, next: &Run, limit: usize) -> (Run, Option<usize>) {
        let mut bridge = Run { blocks: Vec::new(), starts: Vec::new(), end: from, damaged: false };
        let mut candidate = 0;
        let mut place = from;
        while place.bit < next.end.bit && bridge.blocks.len() < limit {
            while candidate < next.starts.len() && next.starts[candidate].bit < place.bit {
                candidate += 1;
            }
            if next.starts.get(candidate) == Some(&place) {
                bridge.end = place;
                return (bridge, Some(candidate));
            }
            let start = place;
            match self.block(&mut place) {
                Some(block) => bridge.blocks.push(block),
                None => {
                    // Past the last block there is only padding; anything else is damage.
                    bridge.damaged = start.bit + 8 <= self.coded_bits();
                    place = start;
                    break;
                }
            }
        }
        bridge.end = place;
        (bridge, None)
    }

    /// Decodes blocks from `from` until a block would start at or after `until` (bits), at most
    /// `limit` blocks, or until the data cannot be decoded. A block that fails in the last byte
    /// before `until` is the padding after the last block, not damage. A `guess` that fails was
    /// a wrong guess: what it read is dropped and it guesses again from the next byte.
    fn run(&self, from: Place, until: usize, limit: usize, guess: bool) -> Run {
        let expected = ((until.saturating_sub(from.bit)) / 64).min(limit);
        let mut run = Run {
            blocks: Vec::with_capacity(expected),
            starts: Vec::with_capacity(expected),
            end: from,
            damaged: false,
        };
        let mut place = from;
        while place.bit < until && run.blocks.len() < limit {
            let start = place;
            match self.block(&mut place) {
                Some(block) => {
                    run.starts.push(start);
                    run.blocks.push(block);
                }
                None if start.bit + 8 > until => {
                    place = start;
                    break;
                }
                None if guess => {
                    run.blocks.clear();
                    run.starts.clear();
                    place = Place { bit: (start.bit / 8 + 1) * 8, slot: 0 };
                }
                None => {
                    run.damaged = true;
                    place = start;
                    break;
                }
            }
        }
        run.end = place;
        run
    }

    /// Decodes the block at `place` and moves `place` past it.
    #[inline(always)]
    fn block(&self, place: &mut Place) -> Option<Block> {
        let component = self.slots[place.slot];
        let c = &self.components[component];
        let (dc, ac) = (self.dc_tables[c.dc].as_ref()?, self.ac_tables[c.ac].as_ref()?);
        let (weights, weighted) = (&self.weights[component], self.weighted[component]);
        let mut bits = Bits::at(&self.data, place.bit);

        let (size, length) = dc.symbol(bits.word)?;
        let size = u32::from(size);
        if size > 11 {
            return None;
        }
        let dc_diff = if size == 0 { 0 } else { extend(((bits.word << length) >> (64 - size)) as i32, size) };
        bits.consume(length + size);

        let mut quadrants = [0f32; 4];
        let mut k = 1;
        while k < 64 {
            bits.refill();
            let (rs, length) = ac.symbol(bits.word)?;
            let (run, size) = (usize::from(rs >> 4), u32::from(rs & 15));
            if size == 0 {
                bits.consume(length);
                if run != 15 {
                    break; // end of block
                }
                k += 16;
                continue;
            }
            k += run;
            if k > 63 {
                return None;
            }
            if weighted >> k & 1 == 1 {
                let value = extend(((bits.word << length) >> (64 - size)) as i32, size) as f32;
                for (q, w) in quadrants.iter_mut().zip(&weights[k]) {
                    *q += value * w;
                }
            }
            bits.consume(length + size);
            k += 1;
        }
        if k > 64 {
            return None;
        }
        place.bit = bits.bit;
        place.slot = if place.slot + 1 == self.slots.len() { 0 } else { place.slot + 1 };
        Some(Block { dc_diff, quadrants })
    }

    /// The picture at a quarter of the size: each component's blocks laid out as 2×2 pixels,
    /// colour converted (JFIF's YCbCr) with the chroma repeated where it was subsampled.
    fn picture(&self, blocks: &[Block]) -> DynamicImage {
        let planes = self.planes(blocks);
        let (w, h) = (self.width.div_ceil(4), self.height.div_ceil(4));
        let luma = &planes[0];
        if self.components.len() == 1 {
            let pixels = (0..h).flat_map(|y| &luma.row(y)[..w]).copied().collect();
            return DynamicImage::ImageLuma8(GrayImage::from_raw(w as u32, h as u32, pixels).unwrap_or_default());
        }
        let h_max = self.components.iter().map(|c| c.h).max().unwrap_or(1);
        let v_max = self.components.iter().map(|c| c.v).max().unwrap_or(1);
        let mut pixels = Vec::with_capacity(w * h * 3);
        let (cb, cr) = (&planes[1], &planes[2]);
        let (cbx, cby) = (h_max / self.components[1].h, v_max / self.components[1].v);
        let (crx, cry) = (h_max / self.components[2].h, v_max / self.components[2].v);
        let columns: Vec<(usize, usize)> = (0..w).map(|x| (x / cbx, x / crx)).collect();
        for y in 0..h {
            let (luma_row, cb_row, cr_row) = (luma.row(y), cb.row(y / cby), cr.row(y / cry));
            for (&l, &(bx, rx)) in luma_row.iter().zip(&columns) {
                let (l, b, r) = (f32::from(l), f32::from(cb_row[bx]) - 128.0, f32::from(cr_row[rx]) - 128.0);
                pixels.extend_from_slice(&[
                    clamp(l + 1.402 * r),
                    clamp(l - 0.344_136 * b - 0.714_136 * r),
                    clamp(l + 1.772 * b),
                ]);
            }
        }
        DynamicImage::ImageRgb8(RgbImage::from_raw(w as u32, h as u32, pixels).unwrap_or_default())
    }

    /// Each component as a plane of 2×2 values per block, its DC values summed up in coded order.
    fn planes(&self, blocks: &[Block]) -> Vec<Plane> {
        let mut planes: Vec<Plane> =
            self.components.iter().map(|c| Plane::new(self.mcus_across * c.h * 2, self.mcus_down * c.v * 2)).collect();
        let mut predictions = vec![0i32; self.components.len()];
        // Each slot's block position within its component's part of an MCU.
        let offsets: Vec<(usize, usize)> = (0..self.slots.len())
            .map(|slot| {
                let c = &self.components[self.slots[slot]];
                let within = self.slots[..slot].iter().filter(|&&s| s == self.slots[slot]).count();
                (within % c.h, within / c.h)
            })
            .collect();
        let mut blocks = blocks.chunks_exact(self.slots.len());
        let mut until_restart = self.restart_interval;
        for my in 0..self.mcus_down {
            for mx in 0..self.mcus_across {
                if self.restart_interval > 0 {
                    if until_restart == 0 {
                        predictions.iter_mut().for_each(|p| *p = 0);
                        until_restart = self.restart_interval;
                    }
                    until_restart -= 1;
                }
                let Some(mcu) = blocks.next() else { return planes };
                for ((block, &component), &(dx, dy)) in mcu.iter().zip(&self.slots).zip(&offsets) {
                    let c = &self.components[component];
                    let (bx, by) = (mx * c.h + dx, my * c.v + dy);
                    predictions[component] += block.dc_diff;
                    let mean = 128.0 + predictions[component] as f32 * self.dc_quant[component] / 8.0;
                    let plane = &mut planes[component];
                    let [a, b, c, d] = block.quadrants;
                    plane.set_pair(bx * 2, by * 2, mean + a, mean + b);
                    plane.set_pair(bx * 2, by * 2 + 1, mean + c, mean + d);
                }
            }
        }
        planes
    }
}

/// One component at a quarter of its coded size, in levels 0-255.
struct Plane {
    width: usize,
    values: Vec<u8>,
}

impl Plane {
    fn new(width: usize, height: usize) -> Plane {
        Plane { width, values: vec![0; width * height] }
    }

    fn set_pair(&mut self, x: usize, y: usize, left: f32, right: f32) {
        let at = y * self.width + x;
        self.values[at..at + 2].copy_from_slice(&[clamp(left), clamp(right)]);
    }

    fn row(&self, y: usize) -> &[u8] {
        &self.values[y * self.width..(y + 1) * self.width]
    }
}

/// Rounded to the nearest level; `as` saturates below 0 and above 255 (and is much cheaper than
/// `f32::round`, a library call on baseline x86-64).
fn clamp(value: f32) -> u8 {
    (value + 0.5) as u8
}

#[cfg(test)]
mod tests {
    use super::*;
    use jpeg_encoder::{ColorType, Encoder, SamplingFactor};

    /// A photo-like picture: smooth gradients, edges and fine texture.
    fn scene(w: u32, h: u32) -> RgbImage {
        RgbImage::from_fn(w, h, |x, y| {
            let n = ((x * 7919 + y * 104_729) % 251) as u8;
            let edge = if (x / 40 + y / 56) % 2 == 0 { 60 } else { 0 };
            image::Rgb([((x / 9) as u8 ^ (n / 8)).saturating_add(edge), (y / 7) as u8, ((x + y) / 17) as u8 ^ (n / 16)])
        })
    }

    fn encode(image: &RgbImage, sampling: SamplingFactor, restart: u16, grey: bool) -> Vec<u8> {
        let mut out = Vec::new();
        let mut encoder = Encoder::new(&mut out, 88);
        encoder.set_sampling_factor(sampling);
        if restart > 0 {
            encoder.set_restart_interval(restart);
        }
        let (w, h) = (image.width() as u16, image.height() as u16);
        if grey {
            let luma = DynamicImage::ImageRgb8(image.clone()).to_luma8();
            encoder.encode(luma.as_raw(), w, h, ColorType::Luma).unwrap();
        } else {
            encoder.encode(image.as_raw(), w, h, ColorType::Rgb).unwrap();
        }
        out
    }

    /// The full decode by the `image` crate, averaged in 4×4 squares: what a quarter should be.
    fn reference(jpeg: &[u8]) -> RgbImage {
        let full = image::load_from_memory(jpeg).unwrap().to_rgb8();
        let (w, h) = (full.width().div_ceil(4), full.height().div_ceil(4));
        RgbImage::from_fn(w, h, |x, y| {
            let (mut sum, mut n) = ([0u32; 3], 0);
            for yy in y * 4..(y * 4 + 4).min(full.height()) {
                for xx in x * 4..(x * 4 + 4).min(full.width()) {
                    let p = full.get_pixel(xx, yy);
                    (0..3).for_each(|c| sum[c] += u32::from(p[c]));
                    n += 1;
                }
            }
            image::Rgb(sum.map(|s| (s as f32 / n as f32).round() as u8))
        })
    }

    fn mean_difference(a: &RgbImage, b: &RgbImage) -> f64 {
        assert_eq!(a.dimensions(), b.dimensions());
        let total: u64 = a.as_raw().iter().zip(b.as_raw()).map(|(x, y)| u64::from(x.abs_diff(*y))).sum();
        total as f64 / a.as_raw().len() as f64
    }

    #[test]
    fn each_sampling_and_restart_markers_give_the_averages_of_the_full_picture() {
        let picture = scene(1203, 805);
        for (sampling, restart, grey) in [
            (SamplingFactor::F_2_2, 0, false),
            (SamplingFactor::F_1_1, 0, false),
            (SamplingFactor::F_2_1, 0, false),
            (SamplingFactor::F_2_2, 7, false),
            (SamplingFactor::F_1_1, 0, true),
        ] {
            let jpeg = encode(&picture, sampling, restart, grey);
            let quarter = decode_with(&jpeg, 3, 4096).expect("decoded").to_rgb8();
            assert_eq!(quarter.dimensions(), (301, 202));
            let difference = mean_difference(&quarter, &reference(&jpeg));
            // The chroma is repeated, not interpolated, hence not exact; far below what the measures notice.
            assert!(difference < 2.0, "{sampling:?} restart {restart} grey {grey}: mean difference {difference:.2}");
        }
    }

    #[test]
    fn pieces_decoded_from_a_guess_join_into_exactly_the_one_piece_result() {
        let jpeg = encode(&scene(2400, 1600), SamplingFactor::F_2_2, 0, false);
        let whole = decode_with(&jpeg, 1, usize::MAX).unwrap().to_rgb8();
        for pieces in [2, 3, 7, 16] {
            let joined = decode_with(&jpeg, pieces, 1024).unwrap().to_rgb8();
            assert!(joined == whole, "{pieces} pieces differ from one");
        }
    }

    #[test]
    fn damaged_or_unsupported_files_give_none_and_never_panic() {
        let jpeg = encode(&scene(640, 480), SamplingFactor::F_2_2, 0, false);
        for cut in (0..jpeg.len()).step_by(97) {
            let _ = decode_with(&jpeg[..cut], 4, 512);
        }
        let mut seed = 0x2545_F491_4F6C_DD1Du64;
        for _ in 0..300 {
            let mut damaged = jpeg.clone();
            for _ in 0..4 {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                let at = (seed % damaged.len() as u64) as usize;
                damaged[at] ^= (seed >> 32) as u8 | 1;
            }
            let _ = decode_with(&damaged, 4, 512);
        }
        assert!(decode_with(&jpeg[..jpeg.len() / 2], 2, 512).is_none(), "a truncated file is not decoded");
        let mut progressive = Vec::new();
        let mut encoder = Encoder::new(&mut progressive, 80);
        encoder.set_progressive(true);
        let picture = scene(64, 64);
        encoder.encode(picture.as_raw(), 64, 64, ColorType::Rgb).unwrap();
        assert!(decode(&progressive, 2).is_none(), "progressive JPEGs are left to the full decoder");
    }
}

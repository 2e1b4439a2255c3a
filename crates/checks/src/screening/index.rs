//! The name index: every distinct token of every listed name, found by its spelling, its sound
//! and its one-letter deletions (so a single typo still finds it), each with the names that
//! contain it.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use super::Entity;
use crate::names::{self, match_tokens, sound_key, token_similarity, NameMatch};

pub struct NameIndex {
    ids: HashMap<String, u32>,
    tokens: Vec<String>,
    /// Per token: the (entity, name) pairs whose name contains it, sorted.
    postings: Vec<Vec<(u32, u16)>>,
    by_sound: HashMap<String, Vec<u32>>,
    /// A token and each of its one-letter deletions, for tokens of four letters or more.
    by_deletion: HashMap<String, Vec<u32>>,
    /// Per entity, per name: its tokens.
    names: Vec<Vec<Box<[u32]>>>,
}

/// Tokens shorter than this are only found as spelled or by sound: a typo in a short token
/// makes another name.
const TYPO_MIN_LEN: usize = 4;

impl NameIndex {
    pub fn build(entities: &[Entity]) -> NameIndex {
        let mut index = NameIndex {
            ids: HashMap::new(),
            tokens: Vec::new(),
            postings: Vec::new(),
            by_sound: HashMap::new(),
            by_deletion: HashMap::new(),
            names: Vec::with_capacity(entities.len()),
        };
        for (e, entity) in entities.iter().enumerate() {
            let mut names = Vec::with_capacity(entity.names.len());
            for (n, name) in entity.names.iter().enumerate().take(u16::MAX as usize) {
                let ids: Box<[u32]> = names::tokens(name).into_iter().map(|t| index.intern(t)).collect();
                for &id in ids.iter() {
                    let posting = &mut index.postings[id as usize];
                    if posting.last() != Some(&(e as u32, n as u16)) {
                        posting.push((e as u32, n as u16));
                    }
                }
                names.push(ids);
            }
            index.names.push(names);
        }
        index
    }

    fn intern(&mut self, token: String) -> u32 {
        if let Some(&id) = self.ids.get(&token) {
            return id;
        }
        let id = self.tokens.len() as u32;
        if let Some(key) = sound_key(&token) {
            self.by_sound.entry(key).or_default().push(id);
        }
        if token.len() >= TYPO_MIN_LEN {
            for variant in deletions(&token).chain([token.clone()]) {
                let ids = self.by_deletion.entry(variant).or_default();
                if ids.last() != Some(&id) {
                    ids.push(id);
                }
            }
        }
        self.ids.insert(token.clone(), id);
        self.tokens.push(token);
        self.postings.push(Vec::new());
        id
    }

    pub fn names(&self) -> usize {
        self.names.iter().map(Vec::len).sum()
    }

    pub fn name_tokens(&self, entity: u32, name: u16) -> Vec<String> {
        self.names[entity as usize][name as usize].iter().map(|&id| self.tokens[id as usize].clone()).collect()
    }

    /// The indexed tokens that `token` may stand for (the same spelling, the same sound, or
    /// one typo away), each with its similarity.
    fn related(&self, token: &str) -> IdMap {
        let mut found: Vec<u32> = self.ids.get(token).copied().into_iter().collect();
        if let Some(key) = sound_key(token) {
            found.extend(self.by_sound.get(&key).into_iter().flatten());
        }
        if token.len() >= TYPO_MIN_LEN {
            for variant in deletions(token).chain([token.to_owned()]) {
                found.extend(self.by_deletion.get(&variant).into_iter().flatten());
            }
        }
        found
            .into_iter()
            .filter_map(|id| {
                let s = token_similarity(token, &self.tokens[id as usize]);
                (s > 0.0).then_some((id, s))
            })
            .collect()
    }

    /// Every listed name that may score `threshold` or more against the query's tokens, with
    /// its match, by entity.
    ///
    /// A name of `c` tokens matching `m` of the query's `q` scores at most
    /// `(m / min(q, c)) · (min / max)^¼`, which reaches `threshold` only when `m ≥ q · threshold⁴`
    /// (and `m ≥ 2` above 0.7, see `match_tokens`). So a name worth scoring matches one of the
    /// query's tokens other than its `m − 1` most common ones: their long lists of names are
    /// never read, and names matching fewer tokens are dropped before scoring. Scoring compares
    /// token ids through the similarities found once per query token.
    pub fn matches(&self, wanted: &[String], threshold: f64) -> Vec<(u32, u16, NameMatch)> {
        let sims: Vec<IdMap> = wanted.iter().map(|t| self.related(t)).collect();
        let mut needed = ((wanted.len() as f64 * threshold.powi(4)).ceil() as usize).max(1);
        if threshold > 0.7 && wanted.len() >= 2 {
            needed = needed.max(2);
        }
        let mut order: Vec<(usize, usize)> = sims
            .iter()
            .enumerate()
            .map(|(i, related)| (related.keys().map(|&id| self.postings[id as usize].len()).sum(), i))
            .collect();
        order.sort_unstable();
        order.truncate(order.len() + 1 - needed.min(order.len()));
        let mut candidates: Vec<(u32, u16)> = Vec::new();
        for (_, i) in order {
            for &id in sims[i].keys() {
                candidates.extend_from_slice(&self.postings[id as usize]);
            }
        }
        candidates.sort_unstable();
        candidates.dedup();
        candidates
            .into_iter()
            .filter_map(|(entity, name)| {
                let tokens = &self.names[entity as usize][name as usize];
                let hit = sims.iter().filter(|related| tokens.iter().any(|id| related.contains_key(id))).count();
                if hit < needed {
                    return None;
                }
                let m =
                    match_tokens(wanted.len(), tokens.len(), |i, j| sims[i].get(&tokens[j]).copied().unwrap_or(0.0));
                Some((entity, name, m))
            })
            .collect()
    }
}

/// Token ids to similarities. Ids are small dense integers: a multiplicative hash spreads them
/// well and costs a fraction of the default hasher, which matters in the per-candidate loop.
type IdMap = HashMap<u32, f64, BuildHasherDefault<IdHasher>>;

#[derive(Default)]
struct IdHasher(u64);

impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0.rotate_left(8) ^ u64::from(b)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }

    fn write_u32(&mut self, id: u32) {
        self.0 = u64::from(id).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}

/// The token with one letter left out, at each position.
fn deletions(token: &str) -> impl Iterator<Item = String> + '_ {
    (0..token.len()).map(move |i| format!("{}{}", &token[..i], &token[i + 1..]))
}

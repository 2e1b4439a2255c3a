//! The name index: every distinct token of every listed name, found by its spelling, its sound
//! and its one-letter deletions (so a single typo still finds it), each with the names that
//! contain it.

use std::collections::HashMap;

use super::Entity;
use crate::names::{self, sound_key, token_similarity};

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

    /// The indexed tokens that `token` may stand for: the same spelling, the same sound, or one
    /// typo away.
    fn related(&self, token: &str) -> Vec<u32> {
        let mut found: Vec<u32> = self.ids.get(token).copied().into_iter().collect();
        if let Some(key) = sound_key(token) {
            found.extend(self.by_sound.get(&key).into_iter().flatten());
        }
        if token.len() >= TYPO_MIN_LEN {
            for variant in deletions(token).chain([token.to_owned()]) {
                found.extend(self.by_deletion.get(&variant).into_iter().flatten());
            }
        }
        found.sort_unstable();
        found.dedup();
        found.retain(|&id| token_similarity(token, &self.tokens[id as usize]) > 0.0);
        found
    }

    /// The (entity, name) pairs worth scoring for a query, sorted by entity.
    ///
    /// A name scores above the threshold only when it matches at least two of the query's
    /// tokens (or the query is one token), so it matches at least one token other than the
    /// query's most common one: that token's long list of names is never read.
    pub fn candidates(&self, wanted: &[String]) -> Vec<(u32, u16)> {
        let mut per_token: Vec<(usize, Vec<u32>)> = wanted
            .iter()
            .map(|t| {
                let related = self.related(t);
                (related.iter().map(|&id| self.postings[id as usize].len()).sum(), related)
            })
            .collect();
        per_token.sort_by_key(|(size, _)| *size);
        if per_token.len() >= 2 {
            per_token.pop();
        }
        let mut out: Vec<(u32, u16)> = Vec::new();
        for (_, related) in per_token {
            for id in related {
                out.extend_from_slice(&self.postings[id as usize]);
            }
        }
        out.sort_unstable();
        out.dedup();
        out
    }
}

/// The token with one letter left out, at each position.
fn deletions(token: &str) -> impl Iterator<Item = String> + '_ {
    (0..token.len()).map(move |i| format!("{}{}", &token[..i], &token[i + 1..]))
}

//! The visited set: every distinct state, stored compactly, with an id.
//!
//! States are vectors of 64-bit values, but nearly all values are small
//! (program counters, register and variable values, buffer lengths), so each
//! state is stored as the zigzag LEB128 encoding of its values, one or two
//! bytes per value, back to back in one arena. A hash table of ids finds a
//! state by its bytes. Equal states have equal encodings, so the encoding is
//! canonical and lookups compare bytes.
//!
//! Invariant: `ends[id]` is the end of state `id`'s bytes in `bytes` (its start
//! is `ends[id - 1]`, or 0); the table holds every id exactly once, with a
//! 32-bit tag of the hash of its bytes, from which the table's own hash is
//! computed: growing the table never reads the states again, and a lookup
//! compares bytes only when the tags agree.

use std::hash::BuildHasher;

use hashbrown::HashTable;
use rustc_hash::FxBuildHasher;

use crate::ir::Val;

/// Index of a state, in insertion order; 0 is the first state inserted.
pub(crate) type StateId = u32;

/// Distinct states, stored once each.
#[derive(Default)]
pub(crate) struct StateStore {
    bytes: Vec<u8>,
    ends: Vec<usize>,
    table: HashTable<(StateId, u32)>,
    hasher: FxBuildHasher,
}

impl std::fmt::Debug for StateStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StateStore")
            .field("states", &self.len())
            .field("bytes", &self.bytes.len())
            .finish()
    }
}

impl StateStore {
    /// Number of states.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// Bytes used by the encoded states.
    pub fn encoded_bytes(&self) -> usize {
        self.bytes.len()
    }

    fn encoded(&self, id: StateId) -> &[u8] {
        slice(&self.bytes, &self.ends, id)
    }

    /// Decodes state `id` into `out` (replacing its contents).
    pub fn get_into(&self, id: StateId, out: &mut Vec<Val>) {
        out.clear();
        decode(self.encoded(id), out);
    }

    /// State `id`, decoded.
    pub fn get(&self, id: StateId) -> Vec<Val> {
        let mut out = Vec::new();
        self.get_into(id, &mut out);
        out
    }

    /// The hash [`StateStore::find`] and [`StateStore::insert_encoded`] take
    /// for an encoded state.
    pub fn hash(&self, encoded: &[u8]) -> u64 {
        self.hasher.hash_one(encoded)
    }

    /// The id of the state encoded as `encoded` (by [`encode`]) with hash
    /// `hash`, if stored.
    pub fn find(&self, hash: u64, encoded: &[u8]) -> Option<StateId> {
        let tag = tag(hash);
        self.table
            .find(spread(tag), |&(id, t)| {
                t == tag && slice(&self.bytes, &self.ends, id) == encoded
            })
            .map(|&(id, _)| id)
    }

    /// Stores the state encoded as `encoded` with hash `hash`, which
    /// [`StateStore::find`] did not find, and returns its id.
    pub fn insert_encoded(&mut self, hash: u64, encoded: &[u8]) -> StateId {
        let id = self.ends.len() as StateId;
        self.bytes.extend_from_slice(encoded);
        self.ends.push(self.bytes.len());
        let tag = tag(hash);
        self.table
            .insert_unique(spread(tag), (id, tag), |&(_, t)| spread(t));
        id
    }

    /// The id of `state`, if stored.
    pub fn id_of(&self, state: &[Val]) -> Option<StateId> {
        let mut key = Vec::new();
        encode(state, &mut key);
        self.id_of_encoded(&key)
    }

    fn id_of_encoded(&self, key: &[u8]) -> Option<StateId> {
        self.find(self.hash(key), key)
    }

    /// Stores `state` if it is new; returns its id and whether it was new.
    pub fn insert(&mut self, state: &[Val]) -> (StateId, bool) {
        let mut key = Vec::new();
        encode(state, &mut key);
        let hash = self.hash(&key);
        match self.find(hash, &key) {
            Some(id) => (id, false),
            None => (self.insert_encoded(hash, &key), true),
        }
    }
}

/// The 32 bits of a state's hash the table keeps.
fn tag(hash: u64) -> u32 {
    (hash >> 32) as u32 ^ hash as u32
}

/// The table's 64-bit hash of a tag: a multiplication spreads the tag's bits
/// over the high bits (hashbrown's control byte) and the low ones (its index).
fn spread(tag: u32) -> u64 {
    u64::from(tag).wrapping_mul(0x9E37_79B9_7F4A_7C15)
}

fn slice<'b>(bytes: &'b [u8], ends: &[usize], id: StateId) -> &'b [u8] {
    let id = id as usize;
    let start = if id == 0 { 0 } else { ends[id - 1] };
    &bytes[start..ends[id]]
}

/// Appends the zigzag LEB128 encoding of `values` to `out`.
pub(crate) fn encode(values: &[Val], out: &mut Vec<u8>) {
    for &v in values {
        let mut z = ((v << 1) ^ (v >> 63)) as u64;
        while z >= 0x80 {
            out.push((z as u8) | 0x80);
            z >>= 7;
        }
        out.push(z as u8);
    }
}

/// Appends the values encoded in `bytes` to `out`.
fn decode(bytes: &[u8], out: &mut Vec<Val>) {
    let mut z = 0u64;
    let mut shift = 0;
    for &b in bytes {
        z |= u64::from(b & 0x7f) << shift;
        if b & 0x80 == 0 {
            out.push(((z >> 1) as i64) ^ -((z & 1) as i64));
            z = 0;
            shift = 0;
        } else {
            shift += 7;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encoding_round_trips_every_kind_of_value() {
        let values = vec![
            0,
            1,
            -1,
            63,
            64,
            -64,
            -65,
            300,
            i64::MAX,
            i64::MIN,
            12345678901,
        ];
        let mut bytes = Vec::new();
        encode(&values, &mut bytes);
        let mut back = Vec::new();
        decode(&bytes, &mut back);
        assert_eq!(back, values);
        let mut small = Vec::new();
        encode(&[0, 1, -1, 63], &mut small);
        assert_eq!(small.len(), 4, "small values take one byte");
    }

    #[test]
    fn states_are_stored_once_and_found_by_value() {
        let mut store = StateStore::default();
        assert_eq!(store.insert(&[1, 2, 3]), (0, true));
        assert_eq!(store.insert(&[1, 2]), (1, true));
        assert_eq!(store.insert(&[1, 2, 3]), (0, false));
        assert_eq!(store.id_of(&[1, 2]), Some(1));
        assert_eq!(store.id_of(&[2, 1]), None);
        assert_eq!(store.get(0), vec![1, 2, 3]);
        for i in 0..10_000 {
            store.insert(&[i, -i, i * 1000]);
        }
        assert_eq!(store.len(), 10_002);
        assert_eq!(store.id_of(&[9999, -9999, 9_999_000]), Some(10_001));
    }
}

//! A small time-bounded memo: what the redirect keeps in isolate memory
//! between requests (the shell's link cache in front of KV).
//!
//! Entries expire `ttl` after they were stored; `now` is passed in, as
//! everywhere in the core. The memo is bounded (an [`lru::LruCache`]):
//! storing a new key into a full memo drops the least recently used entry
//! (a memo, not a store: a miss only costs one KV read). An expired entry
//! is dropped when it is read.

use crate::base::time::Millis;
use lru::LruCache;
use std::borrow::Borrow;
use std::hash::Hash;
use std::num::NonZeroUsize;

pub struct Memo<K, V> {
    entries: LruCache<K, (V, Millis)>,
    ttl: Millis,
}

impl<K: Eq + Hash, V: Clone> Memo<K, V> {
    /// At most `capacity` entries (at least one), allocated as they come.
    pub fn new(ttl: Millis, capacity: usize) -> Self {
        Memo {
            entries: LruCache::sparse(NonZeroUsize::new(capacity).unwrap_or(NonZeroUsize::MIN)),
            ttl,
        }
    }

    /// The value stored for `key`, unless it has expired by `now`. Reading
    /// an entry makes it the most recently used.
    pub fn get<Q: Eq + Hash + ?Sized>(&mut self, key: &Q, now: Millis) -> Option<V>
    where
        K: Borrow<Q>,
    {
        match self.entries.get(key)? {
            (v, expires) if now < *expires => Some(v.clone()),
            _ => {
                self.entries.pop(key);
                None
            }
        }
    }

    pub fn put(&mut self, key: K, value: V, now: Millis) {
        self.entries.put(key, (value, now + self.ttl));
    }

    pub fn remove(&mut self, key: &K) {
        self.entries.pop(key);
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_expire_after_the_ttl() {
        let mut m = Memo::new(1000, 10);
        m.put("a", 1, 5_000);
        assert_eq!(m.get(&"a", 5_000), Some(1));
        assert_eq!(m.get(&"a", 5_999), Some(1));
        assert_eq!(m.get(&"a", 6_000), None);
        assert_eq!(m.get(&"b", 5_000), None);
        m.put("a", 2, 6_000);
        assert_eq!(m.get(&"a", 6_500), Some(2));
        m.remove(&"a");
        assert_eq!(m.get(&"a", 6_500), None);
    }

    #[test]
    fn a_full_memo_drops_the_least_recently_used_entry() {
        let mut m = Memo::new(100, 3);
        m.put(1, "old", 0);
        m.put(2, "new", 90);
        m.put(3, "new", 90);
        // Full: the least recently used entry 1 goes, 2 and 3 stay.
        m.put(4, "x", 150);
        assert_eq!(
            (m.len(), m.get(&2, 150), m.get(&1, 150)),
            (3, Some("new"), None)
        );
        // Full of live entries: 2 was just read, so 3 is the one that goes.
        m.put(5, "y", 160);
        assert_eq!(
            (m.len(), m.get(&5, 160), m.get(&3, 160), m.get(&2, 160)),
            (3, Some("y"), None, Some("new"))
        );
        // Replacing a key in a full memo drops nothing.
        let mut m = Memo::new(100, 2);
        m.put(1, "a", 0);
        m.put(2, "b", 0);
        m.put(2, "c", 1);
        assert_eq!(
            (m.len(), m.get(&1, 1), m.get(&2, 1)),
            (2, Some("a"), Some("c"))
        );
    }
}

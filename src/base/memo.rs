//! A small time-bounded memo: what the redirect keeps in isolate memory
//! between requests (the shell's link cache in front of KV).
//!
//! Entries expire `ttl` after they were stored; `now` is passed in, as
//! everywhere in the core. The memo is bounded: storing into a full memo
//! first drops the expired entries, and if that frees nothing, everything
//! (a memo, not a store: a miss only costs one KV read).

use crate::base::time::Millis;
use std::borrow::Borrow;
use std::collections::HashMap;
use std::hash::Hash;

#[derive(Debug)]
pub struct Memo<K, V> {
    entries: HashMap<K, (V, Millis)>,
    ttl: Millis,
    capacity: usize,
}

impl<K: Eq + Hash, V: Clone> Memo<K, V> {
    pub fn new(ttl: Millis, capacity: usize) -> Self {
        Memo {
            entries: HashMap::new(),
            ttl,
            capacity,
        }
    }

    /// The value stored for `key`, unless it has expired by `now`.
    pub fn get<Q: Eq + Hash + ?Sized>(&self, key: &Q, now: Millis) -> Option<V>
    where
        K: Borrow<Q>,
    {
        self.entries
            .get(key)
            .filter(|(_, expires)| now < *expires)
            .map(|(v, _)| v.clone())
    }

    pub fn put(&mut self, key: K, value: V, now: Millis) {
        if self.entries.len() >= self.capacity && !self.entries.contains_key(&key) {
            self.entries.retain(|_, (_, expires)| now < *expires);
            if self.entries.len() >= self.capacity {
                self.entries.clear();
            }
        }
        self.entries.insert(key, (value, now + self.ttl));
    }

    pub fn remove(&mut self, key: &K) {
        self.entries.remove(key);
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
    fn a_full_memo_drops_expired_entries_first_then_everything() {
        let mut m = Memo::new(100, 3);
        m.put(1, "old", 0);
        m.put(2, "new", 90);
        m.put(3, "new", 90);
        // Full: the expired entry 1 goes, 2 and 3 stay.
        m.put(4, "x", 150);
        assert_eq!(
            (m.len(), m.get(&2, 150), m.get(&1, 150)),
            (3, Some("new"), None)
        );
        // Full of live entries: everything goes but the new one.
        m.put(5, "y", 160);
        assert_eq!((m.len(), m.get(&5, 160)), (1, Some("y")));
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

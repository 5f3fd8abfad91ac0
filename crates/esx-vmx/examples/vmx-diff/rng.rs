//! A small seeded generator (SplitMix64): the harness must be reproducible without a crate.

/// SplitMix64: every case gets its own stream from (seed, case number).
#[derive(Debug, Clone)]
pub struct Rng {
    state: u64,
    /// Whether this case may use invalid values (otherwise only valid ones are picked, so
    /// that most cases get past the first error and exercise the conversion itself).
    pub wild: bool,
}

impl Rng {
    /// The stream of case `case` under `seed`.
    pub fn for_case(seed: u64, case: u64) -> Rng {
        let mut r = Rng {
            state: seed ^ case.wrapping_mul(0x9e37_79b9_7f4a_7c15),
            wild: false,
        };
        r.next();
        r.wild = r.chance(35);
        r
    }

    pub fn next(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n` > 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    /// A number in `lo..=hi`.
    pub fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo + (self.next() % ((hi - lo) as u64 + 1)) as i64
    }

    /// True with probability `percent`/100.
    pub fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }

    /// One of the first `valid` elements, or (in a wild case) any element.
    pub fn pick_v<T: Copy>(&mut self, items: &[T], valid: usize) -> T {
        let n = if self.wild {
            items.len()
        } else {
            valid.min(items.len())
        };
        items[self.below(n)]
    }

    /// One element of a non-empty slice.
    pub fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len())]
    }
}

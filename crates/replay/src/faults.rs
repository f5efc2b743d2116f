//! Fault injection for [`ScriptedModem`](crate::ScriptedModem): split reads,
//! extra URCs, dropped or garbled bytes, withheld answers, a cut line.

use std::collections::{BTreeMap, BTreeSet};

/// How module output is cut into reads.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
enum Split {
    #[default]
    None,
    Every(usize),
    At(BTreeSet<usize>),
    Random {
        seed: u64,
        max: usize,
    },
}

/// Faults to inject into a replay. Offsets count the module's output bytes
/// from the start; line numbers are transcript lines.
///
/// ```
/// use cellmail_replay::Faults;
/// let faults = Faults::new().split_every(1).insert_before(3, "RDY").withhold(5);
/// # let _ = faults;
/// ```
#[derive(Clone, Debug, Default)]
pub struct Faults {
    split: Split,
    inserts: BTreeMap<usize, Vec<String>>,
    drops: BTreeSet<usize>,
    garbles: BTreeSet<usize>,
    withheld: BTreeSet<usize>,
    eof_at: Option<usize>,
}

impl Faults {
    /// No faults.
    pub fn new() -> Self {
        Self::default()
    }

    /// Every read returns at most `n` bytes.
    pub fn split_every(mut self, n: usize) -> Self {
        self.split = Split::Every(n.max(1));
        self
    }

    /// Reads end at these output offsets.
    pub fn split_at(mut self, offsets: impl IntoIterator<Item = usize>) -> Self {
        self.split = Split::At(offsets.into_iter().collect());
        self
    }

    /// Reads are cut at pseudo-random sizes from 1 to `max`, reproducibly per `seed`.
    pub fn split_random(mut self, seed: u64, max: usize) -> Self {
        self.split = Split::Random {
            seed: seed | 1,
            max: max.max(1),
        };
        self
    }

    /// The module sends the line `urc` (framed as `\r\n...\r\n`) before transcript line `line`.
    pub fn insert_before(mut self, line: usize, urc: &str) -> Self {
        self.inserts.entry(line).or_default().push(urc.to_owned());
        self
    }

    /// The module's output byte at `offset` is lost.
    pub fn drop_byte(mut self, offset: usize) -> Self {
        self.drops.insert(offset);
        self
    }

    /// The module's output byte at `offset` arrives corrupted.
    pub fn garble_byte(mut self, offset: usize) -> Self {
        self.garbles.insert(offset);
        self
    }

    /// The module never sends the output of transcript line `line` (the host times out).
    pub fn withhold(mut self, line: usize) -> Self {
        self.withheld.insert(line);
        self
    }

    /// The line is cut (EOF) when the replay reaches transcript line `line`.
    pub fn eof_at(mut self, line: usize) -> Self {
        self.eof_at = Some(line);
        self
    }

    pub(crate) fn inserts_before(&self, line: usize) -> impl Iterator<Item = &str> {
        self.inserts
            .get(&line)
            .into_iter()
            .flatten()
            .map(String::as_str)
    }

    pub(crate) fn eof_line(&self) -> Option<usize> {
        self.eof_at
    }

    pub(crate) fn withholds(&self, line: usize) -> bool {
        self.withheld.contains(&line)
    }

    pub(crate) fn drops(&self, offset: usize) -> bool {
        self.drops.contains(&offset)
    }

    pub(crate) fn garbles(&self, offset: usize) -> bool {
        self.garbles.contains(&offset)
    }

    /// How many bytes the read starting at output offset `at` may return.
    pub(crate) fn read_limit(&self, at: usize) -> usize {
        match &self.split {
            Split::None => usize::MAX,
            Split::Every(n) => n - at % n,
            Split::At(cuts) => cuts.range(at + 1..).next().map_or(usize::MAX, |c| c - at),
            Split::Random { seed, max } => {
                // xorshift64* keyed by the offset: the same cut for the same byte.
                let mut x = seed ^ (at as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
                x ^= x >> 12;
                x ^= x << 25;
                x ^= x >> 27;
                let r = x.wrapping_mul(0x2545_F491_4F6C_DD1D);
                1 + usize::try_from(r % *max as u64).unwrap_or(0)
            }
        }
    }
}

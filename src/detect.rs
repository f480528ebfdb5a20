//! Which domain a message belongs to, from the operator-editable `webhook_routing_rules`.
//!
//! Three kinds of rule:
//! - `id_prefix`: an interactive reply id or template button payload starts with the pattern
//!   (case-insensitive), e.g. `jobs_` for `jobs_post_vacancy`;
//! - `message_type`: the message `type` equals the pattern, e.g. `location` → mobility;
//! - `keyword`: the pattern's words appear, in order and whole, in the message text (body,
//!   captions, button and list titles), case-insensitively. A trailing `*` matches any word
//!   starting with the stem: `job*` matches job, jobs, jobseeker.
//!
//! Among the rules that match, the lowest `priority` wins; on a tie an id or type rule beats a
//! keyword, then the keyword found earliest in the text, then the lowest rule id. The seeds give
//! protected domains a better priority than routable ones, so a message that mentions both stays
//! with its protected (legacy) handler.
use crate::whatsapp::Inbound;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum MatchKind {
    IdPrefix,
    MessageType,
    Keyword,
}

impl MatchKind {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "id_prefix" => Some(Self::IdPrefix),
            "message_type" => Some(Self::MessageType),
            "keyword" => Some(Self::Keyword),
            _ => None,
        }
    }
}

#[derive(Clone, Debug)]
pub struct Rule {
    pub id: i64,
    pub domain: String,
    pub kind: MatchKind,
    pub priority: i32,
    /// id_prefix / message_type: the lowercased pattern. keyword: unused.
    pattern: String,
    /// keyword: the lowercased words; the last one is a stem when `stem` is set.
    words: Vec<String>,
    stem: bool,
}

impl Rule {
    /// Compile a rule row. None for a pattern that can never match (no letters or digits).
    pub fn new(
        id: i64,
        domain: &str,
        kind: MatchKind,
        pattern: &str,
        priority: i32,
    ) -> Option<Self> {
        let lowered = pattern.trim().to_lowercase();
        let (words, stem) = if kind == MatchKind::Keyword {
            let stem = lowered.ends_with('*');
            let words = tokenize(&lowered);
            if words.is_empty() {
                return None;
            }
            (words, stem)
        } else {
            if lowered.is_empty() {
                return None;
            }
            (Vec::new(), false)
        };
        Some(Rule {
            id,
            domain: domain.to_owned(),
            kind,
            priority,
            pattern: lowered,
            words,
            stem,
        })
    }
}

/// Words: maximal runs of letters and digits of the lowercased text, pushed onto `words`.
/// ASCII text is split byte by byte (splitting by `char` was a tenth of route_decision's own
/// time); for ASCII, `is_ascii_alphanumeric` and `char::is_alphanumeric` agree.
fn push_words<'a>(lowered: &'a str, words: &mut Vec<&'a str>) {
    if lowered.is_ascii() {
        let mut start = None;
        for (i, b) in lowered.bytes().enumerate() {
            match (b.is_ascii_alphanumeric(), start) {
                (true, None) => start = Some(i),
                (false, Some(s)) => {
                    words.push(&lowered[s..i]);
                    start = None;
                }
                _ => {}
            }
        }
        if let Some(s) = start {
            words.push(&lowered[s..]);
        }
    } else {
        words.extend(
            lowered
                .split(|c: char| !c.is_alphanumeric())
                .filter(|w| !w.is_empty()),
        );
    }
}

fn tokenize(text: &str) -> Vec<String> {
    let lowered = text.to_lowercase();
    let mut words = Vec::new();
    push_words(&lowered, &mut words);
    words.into_iter().map(str::to_owned).collect()
}

/// The hash of the first-word index: FxHash (a rotate, a xor and a multiply per 8 bytes).
/// Its keys are the rules' words, which operators write, so nobody outside can flood it; the
/// default SipHash cost a tenth of `detect`'s time in a profile of route_decision.
#[derive(Default)]
struct WordHasher(u64);

impl Hasher for WordHasher {
    fn write(&mut self, bytes: &[u8]) {
        const K: u64 = 0x51_7c_c1_b7_27_22_0a_95;
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            let mut word = [0u8; 8];
            word.copy_from_slice(chunk);
            self.0 = (self.0.rotate_left(5) ^ u64::from_le_bytes(word)).wrapping_mul(K);
        }
        for &b in chunks.remainder() {
            self.0 = (self.0.rotate_left(5) ^ u64::from(b)).wrapping_mul(K);
        }
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

type WordMap<V> = HashMap<String, V, BuildHasherDefault<WordHasher>>;

/// A node of the keyword trie: the words of keyword rules, in order, from the root.
#[derive(Clone, Debug, Default)]
struct Node {
    children: WordMap<usize>,
    /// Rules whose words end exactly here.
    ends: Vec<usize>,
    /// Rules whose last word is a stem, after the words that lead here, by that stem.
    stems: WordMap<Vec<usize>>,
    /// The byte lengths of those stems, each once: a word is looked up by its prefixes of these
    /// lengths only.
    stem_lengths: Vec<usize>,
}

/// A map from lowercased prefixes (id prefixes, message types) to rules, with the lengths of
/// the prefixes it holds.
#[derive(Clone, Debug, Default)]
struct Prefixes {
    rules: WordMap<Vec<usize>>,
    lengths: Vec<usize>,
}

impl Prefixes {
    fn insert(&mut self, prefix: &str, rule: usize) {
        self.rules.entry(prefix.to_owned()).or_default().push(rule);
        if !self.lengths.contains(&prefix.len()) {
            self.lengths.push(prefix.len());
            self.lengths.sort_unstable();
        }
    }

    /// The rules whose prefix starts `lowered`.
    fn matching<'s>(&'s self, lowered: &'s str) -> impl Iterator<Item = usize> + 's {
        self.lengths
            .iter()
            .take_while(move |&&l| l <= lowered.len())
            .filter(move |&&l| lowered.is_char_boundary(l))
            .filter_map(move |&l| self.rules.get(&lowered[..l]))
            .flatten()
            .copied()
    }
}

/// The longest text of one field that is read, in bytes: WhatsApp's text bodies hold at most
/// 4,096 characters (captions, titles and payloads less); a longer field is read up to the
/// last whole character before this, so that neither time nor memory grows with a body.
pub const MAX_TEXT_BYTES: usize = 16 * 1024;
/// The longest interactive id or payload that is read (WhatsApp allows 256 characters).
pub const MAX_ID_BYTES: usize = 1024;

/// `text`, cut to at most `max` bytes at a character boundary.
pub fn bounded(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// The compiled rule set, indexed so that detection costs what the message holds, not what the
/// rules hold: keyword rules in a trie of their words (a word's stems found by hashing its
/// prefixes of the stems' lengths), id prefixes and message types by hash. A decision's cost is
/// then bounded by its text (itself bounded, MAX_TEXT_BYTES) times the longest phrase, with
/// 10,000 rules as with 70. (Trying every stem at every word cost a sixth of route_decision's
/// own time with the seeds' 35 stems, and grew as words × rules: 2.3 s for 2,000 stems and a
/// 1 MB body.)
#[derive(Clone, Debug)]
pub struct Rules {
    rules: Vec<Rule>,
    trie: Vec<Node>,
    id_prefixes: Prefixes,
    types: WordMap<Vec<usize>>,
}

impl Default for Rules {
    fn default() -> Self {
        Rules::new(Vec::new())
    }
}

/// The rule that decided a message's domain.
#[derive(Debug, PartialEq, Eq)]
pub struct Detection<'r> {
    pub domain: &'r str,
    pub rule_id: i64,
}

impl Rules {
    pub fn new(rules: Vec<Rule>) -> Self {
        let mut compiled = Rules {
            rules,
            trie: vec![Node::default()],
            id_prefixes: Prefixes::default(),
            types: WordMap::default(),
        };
        for i in 0..compiled.rules.len() {
            let rule = &compiled.rules[i];
            match rule.kind {
                MatchKind::Keyword => {
                    let (last, leading) = match rule.words.split_last() {
                        Some(split) => split,
                        None => continue,
                    };
                    let (last, stem) = (last.clone(), rule.stem);
                    let leading = leading.to_vec();
                    let mut node = 0;
                    for word in &leading {
                        node = compiled.child(node, word);
                    }
                    if stem {
                        let n = &mut compiled.trie[node];
                        n.stems.entry(last.clone()).or_default().push(i);
                        if !n.stem_lengths.contains(&last.len()) {
                            n.stem_lengths.push(last.len());
                            n.stem_lengths.sort_unstable();
                        }
                    } else {
                        let end = compiled.child(node, &last);
                        compiled.trie[end].ends.push(i);
                    }
                }
                MatchKind::IdPrefix => {
                    let pattern = rule.pattern.clone();
                    compiled.id_prefixes.insert(&pattern, i);
                }
                MatchKind::MessageType => {
                    let pattern = rule.pattern.clone();
                    compiled.types.entry(pattern).or_default().push(i);
                }
            }
        }
        compiled
    }

    /// The child of `node` by `word`, made if absent.
    fn child(&mut self, node: usize, word: &str) -> usize {
        if let Some(&c) = self.trie[node].children.get(word) {
            return c;
        }
        let c = self.trie.len();
        self.trie.push(Node::default());
        self.trie[node].children.insert(word.to_owned(), c);
        c
    }

    #[cfg(any(test, feature = "pg_test"))]
    pub fn len(&self) -> usize {
        self.rules.len()
    }

    pub fn detect(&self, message: &Inbound) -> Option<Detection<'_>> {
        let key = |i: usize, pos: usize| {
            let r = &self.rules[i];
            (r.priority, r.kind, pos, r.id)
        };
        let mut best: Option<(usize, usize)> = None;
        let mut consider = |i: usize, pos: usize| {
            if best.is_none_or(|(b, bp)| key(i, pos) < key(b, bp)) {
                best = Some((i, pos));
            }
        };
        if let Some(kind) = message.kind {
            let kind = bounded(kind, MAX_ID_BYTES);
            let lowered;
            let kind = if kind.bytes().any(|b| b.is_ascii_uppercase()) || !kind.is_ascii() {
                lowered = kind.to_lowercase();
                lowered.as_str()
            } else {
                kind
            };
            for &i in self.types.get(kind).into_iter().flatten() {
                consider(i, 0);
            }
        }
        for id in &message.ids {
            let id = bounded(id, MAX_ID_BYTES);
            let lowered = id.to_lowercase();
            for i in self.id_prefixes.matching(&lowered) {
                consider(i, 0);
            }
        }
        // Texts are joined with an empty word so that a phrase never spans two fields.
        // All texts lowercased into one string, each field's end noted; a word takes at least two
        // bytes with its separator. Two allocations per message, never regrown.
        let texts = message.texts.iter().map(|t| bounded(t, MAX_TEXT_BYTES));
        let mut lowered = String::with_capacity(texts.clone().map(str::len).sum());
        let mut ends = Vec::with_capacity(message.texts.len());
        for text in texts {
            if text.is_ascii() {
                let start = lowered.len();
                lowered.push_str(text);
                lowered[start..].make_ascii_lowercase();
            } else {
                // str::to_lowercase, as for the rules: a final sigma depends on its word.
                lowered.push_str(&text.to_lowercase());
            }
            ends.push(lowered.len());
        }
        let mut words: Vec<&str> = Vec::with_capacity(lowered.len() / 2 + ends.len() + 1);
        let mut start = 0;
        for end in ends {
            if !words.is_empty() {
                words.push("");
            }
            push_words(&lowered[start..end], &mut words);
            start = end;
        }
        for pos in 0..words.len() {
            if pos % 1024 == 1023 {
                pgrx::check_for_interrupts!();
            }
            let mut node = &self.trie[0];
            for &word in &words[pos..] {
                if word.is_empty() {
                    break;
                }
                for &length in node.stem_lengths.iter().take_while(|&&l| l <= word.len()) {
                    if !word.is_char_boundary(length) {
                        continue;
                    }
                    for &i in node.stems.get(&word[..length]).into_iter().flatten() {
                        consider(i, pos);
                    }
                }
                match node.children.get(word) {
                    Some(&child) => {
                        node = &self.trie[child];
                        for &i in &node.ends {
                            consider(i, pos);
                        }
                    }
                    None => break,
                }
            }
        }
        best.map(|(i, _)| Detection {
            domain: &self.rules[i].domain,
            rule_id: self.rules[i].id,
        })
    }
}

/// Whether `phrase` stands at `start` in `words`; the last word is a stem when `stem` is set.
/// (The matching rules, said plainly: the reference the trie is tested against.)
#[cfg(any(test, feature = "pg_test"))]
fn phrase_at(words: &[&str], start: usize, phrase: &[String], stem: bool) -> bool {
    let Some(window) = words.get(start..start + phrase.len()) else {
        return false;
    };
    let last = phrase.len() - 1;
    window.iter().zip(phrase).enumerate().all(|(i, (w, p))| {
        if i == last && stem {
            !w.is_empty() && w.starts_with(p.as_str())
        } else {
            *w == p
        }
    })
}

#[cfg(any(test, feature = "pg_test"))]
#[pgrx::pg_schema]
mod tests {
    use super::*;
    use pgrx::prelude::*;

    fn rules() -> Rules {
        Rules::new(vec![
            Rule::new(1, "jobs", MatchKind::IdPrefix, "jobs_", 10).unwrap(),
            Rule::new(2, "mobility", MatchKind::MessageType, "location", 20).unwrap(),
            Rule::new(3, "jobs", MatchKind::Keyword, "job*", 90).unwrap(),
            Rule::new(4, "marketplace", MatchKind::Keyword, "for sale", 100).unwrap(),
            Rule::new(5, "insurance", MatchKind::Keyword, "insurance", 80).unwrap(),
            Rule::new(6, "marketplace", MatchKind::Keyword, "sell*", 100).unwrap(),
        ])
    }

    fn text(t: &str) -> Inbound<'_> {
        Inbound {
            kind: Some("text"),
            texts: vec![t],
            ..Default::default()
        }
    }

    #[pg_test]
    fn keywords_match_whole_words_stems_and_phrases() {
        let r = rules();
        let cases = [
            ("Any JOBS today?", Some("jobs")),
            ("jobseeker here", Some("jobs")),
            ("Bicycle for sale", Some("marketplace")),
            ("for, sale!", Some("marketplace")),
            ("sale for", None),
            ("objob", None),
            ("Selling my phone", Some("marketplace")),
            ("job selling phones", Some("jobs")),
            ("insurance for my job", Some("insurance")),
            ("", None),
        ];
        for (t, expected) in cases {
            assert_eq!(r.detect(&text(t)).map(|d| d.domain), expected, "text {t:?}");
        }
    }

    #[pg_test]
    fn ids_and_types_beat_keywords() {
        let r = rules();
        let msg = Inbound {
            kind: Some("interactive"),
            ids: vec!["JOBS_post"],
            texts: vec!["Sell an item"],
            ..Default::default()
        };
        assert_eq!(r.detect(&msg).unwrap().domain, "jobs");
        let loc = Inbound {
            kind: Some("location"),
            ..Default::default()
        };
        assert_eq!(
            r.detect(&loc).unwrap(),
            Detection {
                domain: "mobility",
                rule_id: 2
            }
        );
    }

    #[pg_test]
    fn phrases_do_not_span_fields() {
        let r = rules();
        let msg = Inbound {
            texts: vec!["something for", "sale"],
            ..Default::default()
        };
        assert_eq!(r.detect(&msg), None);
    }

    /// The byte splitter for ASCII text finds the same words as the `char` one, on every ASCII
    /// character in 3,000 generated texts.
    #[pg_test]
    fn ascii_word_split_equals_the_char_split() {
        let mut state: u32 = 12_345;
        for n in 0..3_000 {
            let text: String = (0..n % 40)
                .map(|_| {
                    state = state.wrapping_mul(1_103_515_245).wrapping_add(12_345);
                    char::from(((state >> 16) % 128) as u8)
                })
                .collect();
            let mut words = Vec::new();
            push_words(&text, &mut words);
            let by_char: Vec<&str> = text
                .split(|c: char| !c.is_alphanumeric())
                .filter(|w| !w.is_empty())
                .collect();
            assert_eq!(words, by_char, "{text:?}");
        }
    }

    #[pg_test]
    fn unusable_patterns_are_refused() {
        assert!(Rule::new(9, "x", MatchKind::Keyword, "***", 1).is_none());
        assert!(Rule::new(9, "x", MatchKind::IdPrefix, "  ", 1).is_none());
        // A prefix that would cut a multi-byte character simply does not match.
        let rules = Rules::new(vec![
            Rule::new(1, "a", MatchKind::IdPrefix, "a", 1).unwrap(),
            Rule::new(2, "b", MatchKind::IdPrefix, "är", 2).unwrap(),
        ]);
        let id = |id| Inbound {
            ids: vec![id],
            ..Default::default()
        };
        assert_eq!(rules.detect(&id("Ärger_x")).map(|d| d.domain), Some("b"));
        assert_eq!(rules.detect(&id("Ä")), None);
    }

    /// The rules as the module's header says them, tried one by one at every word: what the
    /// indexed matcher must find.
    fn reference<'r>(rules: &'r [Rule], message: &Inbound) -> Option<Detection<'r>> {
        let lowered: Vec<String> = message
            .texts
            .iter()
            .map(|t| bounded(t, MAX_TEXT_BYTES).to_lowercase())
            .collect();
        let mut words: Vec<&str> = Vec::new();
        for text in &lowered {
            if !words.is_empty() {
                words.push("");
            }
            push_words(text, &mut words);
        }
        let mut best: Option<(&Rule, usize)> = None;
        for rule in rules {
            let at = match rule.kind {
                MatchKind::IdPrefix => message
                    .ids
                    .iter()
                    .any(|id| {
                        bounded(id, MAX_ID_BYTES)
                            .to_lowercase()
                            .starts_with(&rule.pattern)
                    })
                    .then_some(0),
                MatchKind::MessageType => message
                    .kind
                    .is_some_and(|k| k.to_lowercase() == rule.pattern)
                    .then_some(0),
                MatchKind::Keyword => (0..words.len()).find(|&p| {
                    !words[p].is_empty() && phrase_at(&words, p, &rule.words, rule.stem)
                }),
            };
            if let Some(pos) = at {
                let key = |r: &Rule, p: usize| (r.priority, r.kind, p, r.id);
                if best.is_none_or(|(b, bp)| key(rule, pos) < key(b, bp)) {
                    best = Some((rule, pos));
                }
            }
        }
        best.map(|(r, _)| Detection {
            domain: &r.domain,
            rule_id: r.id,
        })
    }

    /// The indexed matcher finds what the plain one finds, on 3,000 generated rule sets and
    /// messages: phrases, stems of every length, stems that are words of other rules, ids of
    /// several prefixes, mixed case, fields that split a phrase.
    #[pg_test]
    fn the_index_finds_what_trying_every_rule_finds() {
        let vocab = [
            "job", "jobs", "a", "for", "sale", "rent", "house", "car", "kazi", "akazi", "in", "my",
        ];
        let mut state: u64 = 42;
        let mut next = |n: usize| {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            ((state >> 33) as usize) % n
        };
        for case in 0..3_000 {
            let mut rules = Vec::new();
            for id in 0..(1 + next(12)) {
                let kind = match next(6) {
                    0 => MatchKind::IdPrefix,
                    1 => MatchKind::MessageType,
                    _ => MatchKind::Keyword,
                };
                let pattern = match kind {
                    MatchKind::Keyword => {
                        let mut words: Vec<String> = (0..1 + next(3))
                            .map(|_| vocab[next(vocab.len())].to_owned())
                            .collect();
                        if next(3) == 0 {
                            let last = words.pop().unwrap();
                            words.push(format!("{}*", &last[..1 + next(last.len())]));
                        }
                        words.join(" ")
                    }
                    MatchKind::IdPrefix => ["jobs_", "job", "j", "sale_", "Ä"][next(5)].to_owned(),
                    MatchKind::MessageType => ["text", "location", "order"][next(3)].to_owned(),
                };
                if let Some(rule) = Rule::new(
                    id as i64,
                    ["d1", "d2", "d3"][next(3)],
                    kind,
                    &pattern,
                    next(4) as i32,
                ) {
                    rules.push(rule);
                }
            }
            let texts: Vec<String> = (0..next(3))
                .map(|_| {
                    (0..next(8))
                        .map(|_| {
                            let w = vocab[next(vocab.len())];
                            match next(4) {
                                0 => w.to_uppercase(),
                                1 => format!("{w}s"),
                                _ => w.to_owned(),
                            }
                        })
                        .collect::<Vec<_>>()
                        .join([" ", ", ", "!"][next(3)])
                })
                .collect();
            let ids: Vec<String> = (0..next(3))
                .map(|_| ["JOBS_x", "jobx", "sale_1", "Äpfel", "x"][next(5)].to_owned())
                .collect();
            let message = Inbound {
                kind: Some(["text", "Location", "order", "image"][next(4)]),
                texts: texts.iter().map(String::as_str).collect(),
                ids: ids.iter().map(String::as_str).collect(),
                ..Default::default()
            };
            let indexed = Rules::new(rules.clone());
            assert_eq!(
                indexed.detect(&message),
                reference(&rules, &message),
                "case {case}: {rules:?} {message:?}"
            );
        }
    }

    /// Text beyond the bound is not read; a bound never cuts a character.
    #[pg_test]
    fn long_texts_are_read_up_to_the_bound() {
        let rules = rules();
        let far = format!("{} any jobs?", "é".repeat(MAX_TEXT_BYTES));
        assert_eq!(rules.detect(&text(&far)), None);
        let near = format!("jobs {}", "é".repeat(MAX_TEXT_BYTES));
        assert_eq!(rules.detect(&text(&near)).map(|d| d.domain), Some("jobs"));
        assert_eq!(bounded("aé", 2), "a");
        assert_eq!(bounded("aé", 3), "aé");
    }

    /// The seeded rules map plain English requests as a user would expect.
    #[pg_test]
    fn seeded_rules_understand_plain_requests() {
        let rules = crate::cache::snapshot().rules.clone();
        let cases = [
            (
                "Hello, are there any job openings for accountants?",
                Some("jobs"),
            ),
            ("Post a vacancy for a sales manager", Some("jobs")),
            ("Looking for work as a cleaner", Some("jobs")),
            ("Please find my CV attached", Some("jobs")),
            (
                "I want to rent a 2 bedroom house in Kimihurura",
                Some("property"),
            ),
            ("Is this apartment still available?", Some("property")),
            ("Land for sale in Musanze", Some("property")),
            ("Selling this phone, price 150000 RWF", Some("marketplace")),
            ("Where can I buy a second-hand fridge?", Some("marketplace")),
            ("I need a ride to the airport", Some("mobility")),
            ("Book me a taxi please", Some("mobility")),
            ("Update my profile picture", Some("profile")),
            ("I want to change my name", Some("profile")),
            ("How do I renew my car insurance?", Some("insurance")),
            ("I want to file a claim", Some("insurance")),
            // A protected domain wins a tie: the message stays on its legacy handler.
            ("I need insurance for my new job", Some("insurance")),
            ("Can I talk to the AI assistant?", Some("ai_agents")),
            ("Good morning", None),
            ("", None),
        ];
        for (text, expected) in cases {
            let message = Inbound {
                kind: Some("text"),
                texts: vec![text],
                ..Default::default()
            };
            assert_eq!(
                rules.detect(&message).map(|d| d.domain),
                expected,
                "{text:?}"
            );
        }
        let by_id = [
            ("jobs_post_vacancy", "jobs"),
            ("marketplace_sell", "marketplace"),
            ("property_list", "property"),
            ("mobility_book", "mobility"),
            ("profile_edit", "profile"),
            ("insurance_renew", "insurance"),
            ("ai_agents_chat", "ai_agents"),
        ];
        for (id, domain) in by_id {
            let message = Inbound {
                kind: Some("interactive"),
                ids: vec![id],
                // The label says something else: the id wins.
                texts: vec!["Sell an item"],
                ..Default::default()
            };
            assert_eq!(
                rules.detect(&message).map(|d| d.domain),
                Some(domain),
                "{id}"
            );
        }
        let location = Inbound {
            kind: Some("location"),
            ..Default::default()
        };
        assert_eq!(rules.detect(&location).map(|d| d.domain), Some("mobility"));
    }

    /// Rules are rows: an operator's edit applies to the next decision.
    #[pg_test]
    fn operators_edit_rules_as_rows() {
        let message = Inbound {
            kind: Some("text"),
            texts: vec!["Ndashaka akazi"],
            ..Default::default()
        };
        assert_eq!(crate::cache::snapshot().rules.detect(&message), None);
        Spi::run(
            "INSERT INTO webhook_routing_rules (domain, match_kind, pattern, priority) \
             VALUES ('jobs', 'keyword', 'akazi', 60)",
        )
        .unwrap();
        assert_eq!(
            crate::cache::snapshot()
                .rules
                .detect(&message)
                .map(|d| d.domain),
            Some("jobs")
        );
        Spi::run("UPDATE webhook_routing_rules SET enabled = false WHERE pattern = 'akazi'")
            .unwrap();
        assert_eq!(crate::cache::snapshot().rules.detect(&message), None);
    }

    #[pg_test(error = "keyword pattern \"***\" has no letters or digits")]
    fn a_keyword_without_letters_is_refused() {
        Spi::run(
            "INSERT INTO webhook_routing_rules (domain, match_kind, pattern) VALUES ('jobs', 'keyword', '***')",
        )
        .unwrap();
    }
}

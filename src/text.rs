//! Text as detection reads it: lowercased, accents folded, split into words, French elisions
//! taken apart.
//!
//! The rules' patterns go through the same functions as the messages, so that `école`,
//! `ECOLE` and `ecole` are one word, and `l'appartement`, `d'emploi` read as `appartement`,
//! `emploi`. An elided `j'`, `n'`, `m'`, `t'`, `s'` or `c'` stands before a verb (`j'ai`,
//! `n'ai`, `c'est`): the word after it is marked, and a rule word of one or two letters (`ai`)
//! never matches a marked word, so `J'ai une maison` does not read as "AI".

/// Where in a message a text was found; each field has a weight (see `factor`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Field {
    /// `text.body`
    Body,
    /// An image's, video's or document's caption.
    Caption,
    /// An interactive reply's title (button or list row).
    Title,
    /// A list row's description: the business's smaller text under the title.
    Description,
    /// A template quick-reply button's text.
    ButtonText,
    /// The headline of the click-to-WhatsApp ad the user clicked.
    AdHeadline,
    /// The body of that ad.
    AdBody,
    /// A document's file name.
    Filename,
    /// A WhatsApp Flow's reply (its `response_json`, read as text).
    FlowReply,
    /// A catalog order's note.
    OrderText,
}

impl Field {
    /// How much a match in this field counts, against a match in the message body.
    pub fn factor(self) -> f32 {
        match self {
            Field::Body
            | Field::Caption
            | Field::Title
            | Field::ButtonText
            | Field::AdHeadline
            | Field::Filename
            | Field::OrderText => 1.0,
            Field::AdBody => 0.6,
            Field::Description | Field::FlowReply => 0.5,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Field::Body => "text",
            Field::Caption => "caption",
            Field::Title => "title",
            Field::Description => "description",
            Field::ButtonText => "button_text",
            Field::AdHeadline => "ad_headline",
            Field::AdBody => "ad_body",
            Field::Filename => "filename",
            Field::FlowReply => "flow_reply",
            Field::OrderText => "order_text",
        }
    }
}

/// The unaccented form of a lowercase Latin letter with a diacritic (and the ligatures), or
/// None for any other character.
fn fold(c: char) -> Option<&'static str> {
    Some(match c {
        'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' | 'ā' | 'ă' | 'ą' => "a",
        'ç' | 'ć' | 'č' | 'ĉ' | 'ċ' => "c",
        'ď' | 'đ' => "d",
        'è' | 'é' | 'ê' | 'ë' | 'ē' | 'ĕ' | 'ė' | 'ę' | 'ě' => "e",
        'ĝ' | 'ğ' | 'ġ' | 'ģ' => "g",
        'ĥ' | 'ħ' => "h",
        'ì' | 'í' | 'î' | 'ï' | 'ĩ' | 'ī' | 'ĭ' | 'į' | 'ı' => "i",
        'ĵ' => "j",
        'ķ' => "k",
        'ĺ' | 'ļ' | 'ľ' | 'ŀ' | 'ł' => "l",
        'ñ' | 'ń' | 'ņ' | 'ň' => "n",
        'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' | 'ō' | 'ŏ' | 'ő' => "o",
        'ŕ' | 'ŗ' | 'ř' => "r",
        'ś' | 'ŝ' | 'ş' | 'š' => "s",
        'ţ' | 'ť' | 'ŧ' => "t",
        'ù' | 'ú' | 'û' | 'ü' | 'ũ' | 'ū' | 'ŭ' | 'ů' | 'ű' | 'ų' => "u",
        'ŵ' => "w",
        'ý' | 'ÿ' | 'ŷ' => "y",
        'ź' | 'ż' | 'ž' => "z",
        'æ' => "ae",
        'œ' => "oe",
        'ß' => "ss",
        _ => return None,
    })
}

/// Apostrophes as people type them: ASCII, the typographic right quote (iOS and Android
/// keyboards), the modifier letter, the grave accent and the acute accent.
fn is_apostrophe(c: char) -> bool {
    matches!(
        c,
        '\'' | '\u{2019}' | '\u{2018}' | '\u{02BC}' | '`' | '\u{00B4}'
    )
}

/// Append `text` to `out`, lowercased and folded, with every apostrophe as `'`.
pub fn normalize_into(text: &str, out: &mut String) {
    if text.is_ascii() {
        let start = out.len();
        out.push_str(text);
        // ASCII stays ASCII; a backquote is an apostrophe.
        let tail = &mut out[start..];
        tail.make_ascii_lowercase();
        if tail.contains('`') {
            let replaced = tail.replace('`', "'");
            out.truncate(start);
            out.push_str(&replaced);
        }
        return;
    }
    for c in text.chars() {
        if c.is_ascii() {
            out.push(c.to_ascii_lowercase());
            continue;
        }
        if is_apostrophe(c) {
            out.push('\'');
            continue;
        }
        for lower in c.to_lowercase() {
            match fold(lower) {
                Some(folded) => out.push_str(folded),
                None => out.push(lower),
            }
        }
    }
}

/// A word of a normalized text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Word<'a> {
    pub text: &'a str,
    /// Follows an elided pronoun or negation (`j'`, `n'`, `m'`, `t'`, `s'`, `c'`).
    pub after_pronoun: bool,
}

/// French elisions whose word is dropped: articles, prepositions and conjunctions (`l'`,
/// `d'`, `qu'`, …) and the pronouns (`j'`, …), which also mark the next word.
fn elision(word: &str) -> Option<bool> {
    match word {
        "j" | "n" | "m" | "t" | "s" | "c" => Some(true),
        "l" | "d" | "qu" | "jusqu" | "lorsqu" | "puisqu" | "quoiqu" => Some(false),
        _ => None,
    }
}

/// The words of a normalized text (see `normalize_into`): maximal runs of letters and digits.
/// A one- or two-letter elision directly followed by an apostrophe and a letter is dropped.
pub fn push_words<'a>(normalized: &'a str, words: &mut Vec<Word<'a>>) {
    split(normalized, normalized.is_ascii(), words);
}

/// ASCII text is split byte by byte (splitting by `char` was a tenth of route_decision's own
/// time); for ASCII, `is_ascii_alphanumeric` and `char::is_alphanumeric` agree.
fn split<'a>(normalized: &'a str, ascii: bool, words: &mut Vec<Word<'a>>) {
    let bytes = normalized.as_bytes();
    let mut after_pronoun = false;
    let mut push = |start: usize, end: usize, words: &mut Vec<Word<'a>>| {
        let text = &normalized[start..end];
        if bytes.get(end) == Some(&b'\'')
            && normalized[end + 1..]
                .chars()
                .next()
                .is_some_and(char::is_alphabetic)
        {
            if let Some(pronoun) = elision(text) {
                after_pronoun = pronoun;
                return;
            }
        }
        words.push(Word {
            text,
            after_pronoun,
        });
        after_pronoun = false;
    };
    let mut start = None;
    if ascii {
        for (i, b) in bytes.iter().enumerate() {
            match (b.is_ascii_alphanumeric(), start) {
                (true, None) => start = Some(i),
                (false, Some(s)) => {
                    push(s, i, words);
                    start = None;
                }
                _ => {}
            }
        }
    } else {
        for (i, c) in normalized.char_indices() {
            match (c.is_alphanumeric(), start) {
                (true, None) => start = Some(i),
                (false, Some(s)) => {
                    push(s, i, words);
                    start = None;
                }
                _ => {}
            }
        }
    }
    if let Some(s) = start {
        push(s, normalized.len(), words);
    }
}

/// The normalized words of a pattern or a text, owned.
pub fn words_of(text: &str) -> Vec<String> {
    let mut normalized = String::with_capacity(text.len());
    normalize_into(text, &mut normalized);
    let mut words = Vec::new();
    push_words(&normalized, &mut words);
    words.into_iter().map(|w| w.text.to_owned()).collect()
}

/// Words that say the user wants something: the first domain match after one (within
/// `INTENT_REACH` words) is what they want, and counts more (see detect.rs). English, French,
/// Kinyarwanda, Swahili; Kinyarwanda's verb forms by their roots.
pub fn is_intent(word: &str) -> bool {
    matches!(
        word,
        "want"
            | "wants"
            | "wanted"
            | "wanna"
            | "need"
            | "needs"
            | "needed"
            | "looking"
            | "seeking"
            | "search"
            | "searching"
            | "find"
            | "interested"
            | "request"
            | "require"
            | "cherche"
            | "cherchons"
            | "recherche"
            | "recherchons"
            | "veux"
            | "voudrais"
            | "voudrait"
            | "voulons"
            | "veut"
            | "besoin"
            | "souhaite"
            | "souhaiterais"
            | "aimerais"
            | "trouver"
            | "faut"
            | "nataka"
            | "tunataka"
            | "anataka"
            | "unataka"
            | "nahitaji"
            | "tunahitaji"
            | "natafuta"
            | "tunatafuta"
            | "ninatafuta"
            | "ninataka"
            | "naomba"
            | "nipatie"
            | "nitafutie"
    ) || (word.len() >= 5 && kinyarwanda_want(word.as_bytes()))
}

/// Whether a word holds the root of Kinyarwanda's "want" or "need": -shak- (ndashaka, nshaka,
/// turashaka), -ifuz- (ndifuza, twifuza), -kene- (nkeneye, dukenera). One pass over the bytes:
/// three `str::contains` per word were a tenth of detection's time.
fn kinyarwanda_want(w: &[u8]) -> bool {
    (0..w.len().saturating_sub(3)).any(|i| match w[i] {
        b's' => &w[i..i + 4] == b"shak",
        b'i' => &w[i..i + 4] == b"ifuz",
        b'k' => &w[i..i + 4] == b"kene",
        _ => false,
    })
}

/// How far after an intent word its object is looked for, in words.
pub const INTENT_REACH: usize = 6;

#[cfg(test)]
mod tests {
    use super::*;

    fn words(text: &str) -> Vec<(String, bool)> {
        let mut normalized = String::new();
        normalize_into(text, &mut normalized);
        let mut out = Vec::new();
        push_words(&normalized, &mut out);
        out.into_iter()
            .map(|w| (w.text.to_owned(), w.after_pronoun))
            .collect()
    }

    #[test]
    fn accents_case_and_elisions() {
        let cases: &[(&str, &[(&str, bool)])] = &[
            ("ÉCOLE été", &[("ecole", false), ("ete", false)]),
            (
                "J'ai une maison à louer",
                &[
                    ("ai", true),
                    ("une", false),
                    ("maison", false),
                    ("a", false),
                    ("louer", false),
                ],
            ),
            ("offre d’emploi", &[("offre", false), ("emploi", false)]),
            ("L'IA", &[("ia", false)]),
            ("n'akazi", &[("akazi", true)]),
            ("qu'il", &[("il", false)]),
            ("don't", &[("don", false), ("t", false)]),
            ("l' appartement", &[("l", false), ("appartement", false)]),
            ("Œuvre Straße", &[("oeuvre", false), ("strasse", false)]),
            ("jobs🙏🏾2day", &[("jobs", false), ("2day", false)]),
        ];
        for (text, expected) in cases {
            let expected: Vec<(String, bool)> = expected
                .iter()
                .map(|(w, p)| ((*w).to_owned(), *p))
                .collect();
            assert_eq!(words(text), expected, "{text}");
        }
    }

    /// The byte splitter for ASCII text finds the same words as the `char` one, on every ASCII
    /// character in 3,000 generated texts.
    #[test]
    fn ascii_word_split_equals_the_char_split() {
        let mut state: u32 = 12_345;
        for n in 0..3_000 {
            let text: String = (0..n % 40)
                .map(|_| {
                    state = state.wrapping_mul(1_103_515_245).wrapping_add(12_345);
                    char::from(((state >> 16) % 128) as u8)
                })
                .collect();
            let (mut by_byte, mut by_char) = (Vec::new(), Vec::new());
            split(&text, true, &mut by_byte);
            split(&text, false, &mut by_char);
            assert_eq!(by_byte, by_char, "{text:?}");
        }
    }

    #[test]
    fn intents_in_four_languages() {
        for w in [
            "want",
            "cherche",
            "ndashaka",
            "nshaka",
            "turifuza",
            "nkeneye",
            "ndakenera",
            "natafuta",
        ] {
            assert!(is_intent(w), "{w}");
        }
        for w in ["job", "akazi", "shak", "house", "kene", "umukino"] {
            assert!(!is_intent(w), "{w}");
        }
    }
}

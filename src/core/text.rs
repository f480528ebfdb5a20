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
    /// The words of an interactive reply id or a template button payload, split at `_`, `-`,
    /// `.`, case changes and digits (`vacancyAlert_yes` reads `vacancy alert yes`): the app
    /// names what a pick is about, in whatever prefix it chose.
    Id,
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
            | Field::OrderText
            | Field::Id => 1.0,
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
            Field::Id => "id_words",
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
/// `d'`, `qu'`, …) and the pronouns (`j'`, …), which also mark the next word. `jusqu'` (as far
/// as) stays a word: "jusqu'à Gikondo, ça fait combien ?" asks a fare to a place.
fn elision(word: &str) -> Option<bool> {
    match word {
        "j" | "n" | "m" | "t" | "s" | "c" => Some(true),
        "l" | "d" | "qu" | "lorsqu" | "puisqu" | "quoiqu" => Some(false),
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

/// An id or payload as words: a space at every `_`, `-`, `.`, `:`, `/`, at a lowercase letter
/// followed by an uppercase one (camelCase), and between letters and digits, so that
/// `PAY_PREMIUM`, `rate_trip_4`, `vacancyAlertYes` and `trip4` read as the words they are made
/// of. The result is then normalized like any text.
pub fn id_text(id: &str, out: &mut String) {
    let mut previous: Option<char> = None;
    for c in id.chars() {
        let split = match previous {
            Some(p) => {
                (p.is_lowercase() && c.is_uppercase())
                    || (p.is_alphabetic() && c.is_ascii_digit())
                    || (p.is_ascii_digit() && c.is_alphabetic())
            }
            None => false,
        };
        if split {
            out.push(' ');
        }
        if matches!(c, '_' | '-' | '.' | ':' | '/' | '+') {
            out.push(' ');
        } else {
            out.push(c);
        }
        previous = Some(c);
    }
}

/// Words that open a request without a word of wanting, when they stand among the first
/// `OPENER_REACH` words of a text: a question for something to be had (`any`, `do you have`,
/// `avez-vous`, `y a-t-il`, `mufite`, `hari`, `mnauza`, `kuna`) or a turn to something else
/// (`and`, `also`, `et`, `aussi`, `na`, `kandi`, `pia`). They count as a word of intent there:
/// "and houses for rent?", "mufite inzu?" ask for what follows. Question words that ask about
/// something (`what`, `is`, `does`, `ese`, `est-ce`) are not among them: "what is a mortgage?"
/// asks to know, not to get.
pub fn is_opener(word: &str) -> bool {
    matches!(
        word,
        "and"
            | "also"
            | "any"
            | "anything"
            | "have"
            | "et"
            | "aussi"
            | "avez"
            | "auriez"
            | "y"
            | "na"
            | "kandi"
            | "mufite"
            | "murafite"
            | "ufite"
            | "hari"
            | "haba"
            | "pia"
            | "kuna"
            | "mna"
            | "una"
            | "mnauza"
            | "mnayo"
    )
}

/// The openers that only turn ("and", "also", "et", "aussi", "na", "kandi", "pia"): a request
/// for what follows, except in the assistant's conversation, where "and the transport of the
/// guests?" goes on with the question asked (src/route/policy.rs, `follow`); there one leaves by saying
/// what one wants or asks for ("and I want a taxi", "do you have houses?").
pub fn is_turn(word: &str) -> bool {
    matches!(
        word,
        "and" | "also" | "et" | "aussi" | "na" | "kandi" | "pia"
    )
}

/// Subject pronouns, which may stand between a question word and its verb ("how can I", "quand
/// il veut", "comment tu peux"): see `asks_to_know`.
pub fn is_subject_pronoun(word: &str) -> bool {
    matches!(
        word,
        "i" | "you"
            | "he"
            | "she"
            | "we"
            | "they"
            | "je"
            | "tu"
            | "il"
            | "elle"
            | "nous"
            | "vous"
            | "ils"
            | "elles"
    )
}

/// Whether a word of asking or wanting whose two words before it are `previous` and
/// `before_that` follows a question word, directly or across its subject pronoun ("how can I
/// start a business", "jinsi gani naweza kuuza", "quand il veut"): the sentence asks to know
/// how or when, not to get what follows.
pub fn asks_to_know(previous: Option<&str>, before_that: Option<&str>) -> bool {
    previous.is_some_and(is_wh_word)
        || previous.is_some_and(is_subject_pronoun) && before_that.is_some_and(is_wh_word)
}

/// Words that open a condition: "if the agent wants to call", "si l'agent veut", "s'il veut"
/// (its `il` after the elided `s'`, which before `il` is only ever `si`), "niba ashaka", "kama
/// anataka", "iwapo unahitaji". A word of wanting in one says what someone would do, not what
/// the writer asks for (src/core/detect.rs, `Texts::in_condition`). "s'il vous plaît" (please)
/// is no condition: a `si` or `il` before "vous" or "te" opens none.
pub fn is_condition(word: &str, after_pronoun: bool, next: Option<&str>) -> bool {
    let french = word == "si" || (after_pronoun && matches!(word, "il" | "ils"));
    if french {
        return !matches!(next, Some("vous" | "te"));
    }
    matches!(
        word,
        "if" | "unless" | "whenever" | "niba" | "kama" | "ikiwa" | "iwapo" | "endapo"
    )
}

/// How many words before a word of wanting a condition that holds it may open ("if the
/// property agent wants").
pub const CONDITION_REACH: usize = 4;

/// Words that ask whether the service has something, anywhere in a text ("vous avez",
/// "mufite", "mnauza", "kuna", "do you have", not "you have to"): a word of asking for what
/// follows ("thanks. do you have any receptionist jobs?"), and after a turn they make it a
/// request ("et vous avez des locaux à louer ?", "na akazi mwaba mufite?").
pub fn is_offer(previous: Option<&str>, word: &str, next: Option<&str>) -> bool {
    matches!(
        word,
        "avez" | "auriez" | "vendez" | "mufite" | "murafite" | "mnauza" | "mnayo" | "mna" | "kuna"
    ) || (word == "have" && previous == Some("you") && next != Some("to"))
}

/// Words that ask to do or get something, anywhere in a text: "can I buy", "could you find",
/// "puis-je", "pouvez-vous", "nshobora kugura", "mwanshakira", "naweza kupata". The first match
/// after one is what is asked for, as after a word of wanting. Kinyarwanda's polite forms of
/// giving, bringing and sending to the writer ("mwampa", "wampa", "mumpa", "mwanzanira",
/// "mwanyoherereza": could you give, bring, send me) ask as "could you" does, in a question
/// too ("ese mwampa imodoka?"), where the plain commands do not (`is_command`).
pub fn is_asking(word: &str) -> bool {
    matches!(
        word,
        "can"
            | "could"
            | "puis"
            | "peux"
            | "pouvez"
            | "pourriez"
            | "mushobora"
            | "nshobora"
            | "twashobora"
            | "wanshakira"
            | "mwanshakira"
            | "mwampa"
            | "wampa"
            | "mumpa"
            | "mwaduha"
            | "waduha"
            | "mwanzanira"
            | "wanzanira"
            | "mwanyoherereza"
            | "wanyoherereza"
            | "naweza"
            | "unaweza"
            | "mnaweza"
            | "tunaweza"
    )
}

/// Words that ask someone to send, bring, give, find or show the writer something: "send me a
/// moto", "get us a cab", "envoyez-moi un taxi", "pouvez-vous m'envoyer", "nyoherereza moto",
/// "nzanira", "nitumie bodaboda", "niletee gari". A word of asking for what follows, as "can I"
/// is, though nothing in the sentence asks: "wait, first send me a moto" is a request. The
/// English and French verbs ask only before "me", "us", "moi", "nous" or after an elided "m'"
/// ("send the CV" is no request to the service); the Kinyarwanda and Swahili ones hold the
/// "me" in themselves.
pub fn is_command(word: &str, next: Option<&str>, after_pronoun: bool) -> bool {
    let to_me = after_pronoun || matches!(next, Some("me" | "us" | "moi" | "nous"));
    (to_me
        && matches!(
            word,
            "send"
                | "get"
                | "bring"
                | "give"
                | "find"
                | "show"
                | "book"
                | "order"
                | "envoyez"
                | "envoie"
                | "envoyer"
                | "donnez"
                | "donne"
                | "trouvez"
                | "trouve"
                | "trouver"
                | "amenez"
                | "amene"
                | "amener"
                | "montrez"
                | "montre"
                | "reservez"
                | "reserve"
        ))
        || matches!(
            word,
            "nyoherereza"
                | "unyoherereza"
                | "mwanyoherereza"
                | "munyoherereze"
                | "nzanira"
                | "unzanira"
                | "mwanzanira"
                | "munzanire"
                | "mumpe"
                | "umpe"
                | "mpa"
                | "nitumie"
                | "nitumieni"
                | "tutumie"
                | "niletee"
                | "nileteeni"
                | "tuletee"
                | "nipe"
                | "tupe"
                | "nipeni"
                | "unipe"
                | "mnipe"
                | "uniletee"
                | "mniletee"
                | "unitumie"
                | "mnitumie"
                | "nimumpe"
        )
}

/// Words of selling, whose object is what is sold: "sell my car", "je vends ma vieille moto",
/// "nauza gari langu", "ndagurisha moto yanjye" (Kinyarwanda's forms by the root -gurish-). A
/// vehicle, an account or a cover right after one is goods (src/core/detect.rs, `goods`).
pub fn is_selling(word: &str) -> bool {
    matches!(
        word,
        "sell"
            | "selling"
            | "sells"
            | "vends"
            | "vend"
            | "vendre"
            | "vendons"
            | "vendez"
            | "nauza"
            | "ninauza"
            | "tunauza"
            | "anauza"
            | "unauza"
            | "kuuza"
    ) || (word.contains("gurish") && !word.contains("gurishw"))
}

/// Passives of selling, after what is sold: "pikipiki inauzwa", "moto igurishwa".
pub fn is_sold(word: &str) -> bool {
    matches!(
        word,
        "inauzwa" | "linauzwa" | "zinauzwa" | "yanauzwa" | "kinauzwa" | "vinauzwa" | "unauzwa"
    ) || word.contains("gurishw")
}

/// First-person words of ability that are also a question's "can I": "nshobora gutwara imodoka"
/// says "I can drive a car", "nshobora gutumiza moto?" asks for one. They ask only in a text
/// that asks (a `?`, or a first word that opens a question).
pub fn is_ability(word: &str) -> bool {
    matches!(word, "nshobora" | "twashobora" | "naweza" | "tunaweza")
}

/// Whether asking word `word` followed by `next` asks for the speaker or someone to do or get
/// something: English "can"/"could" only before "I", "we", "you", "someone" and the like ("can
/// he eat sweet potatoes?" asks to know); the other languages' asking words say who asks in
/// themselves ("nshobora", "pouvez").
pub fn asks_for_someone(word: &str, next: Option<&str>) -> bool {
    if !matches!(word, "can" | "could") {
        return true;
    }
    matches!(
        next,
        Some(
            "i" | "we"
                | "you"
                | "u"
                | "ya"
                | "someone"
                | "somebody"
                | "anyone"
                | "anybody"
                | "one"
                | "me"
                | "us"
        )
    )
}

/// The question words that ask to know (what, how, where, how much, …), not the yes/no
/// openings ("do", "can", "est-ce", "ese") that also ask for something to be had.
pub fn is_wh_word(word: &str) -> bool {
    matches!(
        word,
        "what"
            | "which"
            | "who"
            | "whom"
            | "whose"
            | "why"
            | "how"
            | "when"
            | "where"
            | "quel"
            | "quelle"
            | "quels"
            | "quelles"
            | "comment"
            | "pourquoi"
            | "quand"
            | "combien"
            | "quoi"
            | "kuki"
            | "ryari"
            | "nde"
            | "gute"
            | "nini"
            | "lini"
            | "wapi"
            | "vipi"
            | "nani"
            | "gani"
    )
}

/// Words that open a question, in the four languages: a message starting with one asks
/// something even without a question mark ("which papers does a land sale need",
/// "ni ibihe byangombwa", "quels papiers faut-il").
pub fn is_question_word(word: &str) -> bool {
    matches!(
        word,
        "what"
            | "which"
            | "who"
            | "whom"
            | "whose"
            | "why"
            | "how"
            | "when"
            | "where"
            | "is"
            | "are"
            | "does"
            | "do"
            | "can"
            | "could"
            | "should"
            | "would"
            | "quel"
            | "quelle"
            | "quels"
            | "quelles"
            | "comment"
            | "pourquoi"
            | "quand"
            | "ou"
            | "combien"
            | "qui"
            | "que"
            | "quoi"
            | "est"
            | "ese"
            | "kuki"
            | "ryari"
            | "nde"
            | "ni"
            | "gute"
            | "nini"
            | "kwa"
            | "lini"
            | "wapi"
            | "vipi"
            | "nani"
            | "gani"
    )
}

/// Whether word `word`, followed by `next`, says that a question is asked in general, not of
/// the writer's own case: "in general", "en général", "généralement", "muri rusange", "kwa
/// ujumla". An explanation asked in general is the assistant's whatever its topic (see
/// src/core/detect.rs, `quote`): "explain how car insurance works, in general".
pub fn is_general(word: &str, next: Option<&str>) -> bool {
    matches!(word, "generally" | "generalement")
        || (matches!(word, "in" | "en") && matches!(next, Some("general" | "generale")))
        || (word == "muri" && next == Some("rusange"))
        || (word == "kwa" && matches!(next, Some("ujumla" | "jumla")))
}

/// Words of the writer's own (my, mine, mon, ma, mes, Kinyarwanda's `-anjye`: yanjye, bwanjye,
/// Swahili's `-angu`: yangu, wangu): a question that holds one asks of the writer's own case
/// ("explain in general how my claim works"), whatever else it says.
pub fn is_own(word: &str) -> bool {
    matches!(
        word,
        "my" | "mine"
            | "mon"
            | "ma"
            | "mes"
            | "yangu"
            | "wangu"
            | "langu"
            | "zangu"
            | "changu"
            | "vyangu"
            | "kwangu"
    ) || (word.len() > 5 && word.ends_with("anjye"))
}

/// How many words from a text's start a request opener (`is_opener`) is read in: "Hi, do you
/// have…", "Bonjour, avez-vous…".
pub const OPENER_REACH: usize = 3;

/// Words that say the user wants to sign up or become something: the role or account named
/// after them is what the message is about ("sign up as a taxi driver", "je veux devenir
/// vendeur", "kwiyandikisha nk'umushoferi"), more than the signing up.
pub fn is_becoming(word: &str) -> bool {
    matches!(
        word,
        "register"
            | "registering"
            | "sign"
            | "signing"
            | "become"
            | "becoming"
            | "join"
            | "joining"
            | "enroll"
            | "enrol"
            | "inscrire"
            | "inscris"
            | "devenir"
            | "rejoindre"
            | "kujiunga"
            | "nijiunge"
            | "kuwa"
    ) || (word.len() >= 8
        && (word.contains("iyandikish")
            || word.contains("nyandikish")
            || word.contains("jiandikish")
            || word.contains("jisajil")))
}

/// Words that say the user wants something: the first domain match after one (within
/// `INTENT_REACH` words) is what they want, and counts more (see src/core/detect.rs). English,
/// French, Kinyarwanda, Swahili; Kinyarwanda's verb forms by their roots.
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

/// Words of someone else's wanting (he, she or they want: `wants`, `veut`, `anataka`,
/// Kinyarwanda's `ashaka`, `arashaka`, `ashakiye`): in a question they ask what another may do
/// ("et si le propriétaire veut augmenter le loyer ?", "nyirayo ashobora kongera ubukode igihe
/// ashakiye?"), not for what follows.
pub fn is_others_want(word: &str) -> bool {
    matches!(
        word,
        "wants" | "veut" | "veulent" | "anataka" | "wanataka" | "anahitaji" | "wanahitaji"
    ) || ((word.starts_with("ashak")
        || word.starts_with("arashak")
        || word.starts_with("bashak")
        || word.starts_with("barashak"))
        && word.len() <= 9)
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
            (
                "jusqu'à Gikondo",
                &[("jusqu", false), ("a", false), ("gikondo", false)],
            ),
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
    fn ids_split_into_words() {
        let split = |id: &str| {
            let mut out = String::new();
            id_text(id, &mut out);
            let mut normalized = String::new();
            normalize_into(&out, &mut normalized);
            let mut w = Vec::new();
            push_words(&normalized, &mut w);
            w.into_iter().map(|w| w.text.to_owned()).collect::<Vec<_>>()
        };
        assert_eq!(split("PAY_PREMIUM"), ["pay", "premium"]);
        assert_eq!(split("rate_trip_4"), ["rate", "trip", "4"]);
        assert_eq!(split("vacancyAlert-yes"), ["vacancy", "alert", "yes"]);
        assert_eq!(split("trip4.rating"), ["trip", "4", "rating"]);
        assert_eq!(split("opt_2"), ["opt", "2"]);
    }

    #[test]
    fn asking_openers_and_questions() {
        for w in ["can", "nshobora", "naweza", "pouvez"] {
            assert!(is_asking(w), "{w}");
        }
        for w in ["nshobora", "naweza"] {
            assert!(is_ability(w), "{w}");
        }
        for w in ["sell", "vends", "nauza", "ndagurisha", "kugurisha"] {
            assert!(is_selling(w) && !is_sold(w), "{w}");
        }
        assert!(is_sold("inauzwa") && is_sold("igurishwa") && !is_selling("igurishwa"));
        assert!(is_sold("kinauzwa") && !is_sold("kuuza"));
        // Asked in general, not of one's own case.
        assert!(is_general("in", Some("general")) && is_general("muri", Some("rusange")));
        assert!(is_general("kwa", Some("ujumla")) && is_general("generalement", None));
        assert!(!is_general("in", Some("kigali")) && !is_general("general", None));
        for w in ["my", "mes", "yanjye", "bwanjye", "yangu"] {
            assert!(is_own(w), "{w}");
        }
        for w in ["anjye", "insurance", "ubwishingizi", "moto"] {
            assert!(!is_own(w), "{w}");
        }
        // Sending, bringing, giving: to the writer, not to someone else.
        assert!(is_command("send", Some("me"), false) && is_command("envoyer", Some("un"), true));
        assert!(
            is_command("nitumie", Some("bodaboda"), false)
                && is_command("nyoherereza", None, false)
        );
        assert!(!is_command("send", Some("the"), false) && !is_command("give", Some("him"), false));
        assert!(!is_ability("mushobora") && !is_ability("pouvez"));
        // Could you give, bring, send me: a polite ask, in a question too.
        for w in ["mwampa", "wampa", "mwanzanira", "mwanyoherereza"] {
            assert!(is_asking(w) && !is_ability(w), "{w}");
        }
        assert!(is_command("unipe", Some("gari"), false) && is_command("mniletee", None, false));
        // Conditions, in the four languages; "kandi" (and) opens none.
        for w in ["if", "si", "niba", "kama", "iwapo"] {
            assert!(is_condition(w, false, Some("the")), "{w}");
        }
        assert!(!is_condition("kandi", false, None) && !is_condition("when", false, None));
        // "s'il veut": `il` after the elided `si`; a plain `il` opens none, nor does "s'il vous
        // plaît".
        assert_eq!(
            words("s'il veut"),
            [("il".to_owned(), true), ("veut".to_owned(), false)]
        );
        assert!(is_condition("il", true, Some("veut")) && !is_condition("il", false, Some("veut")));
        assert!(!is_condition("il", true, Some("vous")) && !is_condition("si", false, Some("te")));
        for w in ["and", "mufite", "hari", "avez", "kuna"] {
            assert!(is_opener(w), "{w}");
        }
        for w in ["register", "kwiyandikisha", "kujisajili", "devenir"] {
            assert!(is_becoming(w), "{w}");
        }
        // Asking to know is no request.
        for w in ["what", "does", "is", "ese", "est"] {
            assert!(!is_opener(w) && !is_asking(w) && is_question_word(w), "{w}");
        }
    }

    #[test]
    fn someone_elses_wanting() {
        for w in [
            "wants",
            "veut",
            "anataka",
            "ashaka",
            "arashaka",
            "ashakiye",
            "barashaka",
        ] {
            assert!(is_others_want(w), "{w}");
        }
        for w in [
            "want",
            "veux",
            "nataka",
            "ndashaka",
            "nshaka",
            "twashakaga",
            "ashakishwa",
        ] {
            assert!(!is_others_want(w), "{w}");
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

//! Detection over the seeded rules (sql/seed_rules.sql) as the server loads them, and rules
//! edited as rows: the tests of src/core/detect.rs that need the database. The pure ones are
//! there, beside the code.

#[cfg(any(test, feature = "pg_test"))]
#[pgrx::pg_schema]
mod tests {
    use crate::core::message::Inbound;
    use crate::core::text;
    use crate::core::text::Field;
    use crate::pg::config_cache;
    use pgrx::prelude::*;

    const PROTECTED: [&str; 3] = ["mobility", "profile", "insurance"];

    fn protected(d: &str) -> bool {
        PROTECTED.contains(&d)
    }

    fn text(t: &str) -> Inbound<'_> {
        Inbound {
            kind: Some("text"),
            texts: vec![(Field::Body, t)],
            ..Default::default()
        }
    }

    /// The nouns say what is wanted, also before the word of intent; an asking word asks for
    /// something only when someone asks for themselves; "and how much" asks to know.
    #[pg_test]
    fn requests_are_read_by_their_nouns_and_their_askers() {
        let rules = config_cache::snapshot().rules.clone();
        let detect = |t: &'static str| {
            rules
                .detect(&text(t), &protected)
                .map(|d| (d.domain, d.requested))
        };
        assert_eq!(
            detect("mfite icyumba i Remera nshaka kukigurisha").map(|d| d.0),
            Some("property")
        );
        assert_eq!(
            detect("I have an apartment in Kacyiru that I want to sell").map(|d| d.0),
            Some("property")
        );
        assert_eq!(
            detect("can I buy a fridge here?"),
            Some(("marketplace", true))
        );
        assert_eq!(
            detect("can goats eat cassava leaves?").map(|d| d.1),
            Some(false)
        );
        assert_eq!(
            detect("and how much does a solar panel cost for a house?").map(|d| d.1),
            Some(false)
        );
        assert!(text::asks_for_someone("could", Some("you")));
        assert!(!text::asks_for_someone("can", Some("she")));
        assert!(text::asks_for_someone("mushobora", Some("kumpa")));
    }

    /// The seeded rules, on requests as users write them in the four languages, and on the
    /// classes of mistakes a first-match router makes.
    #[pg_test]
    fn seeded_rules_understand_requests_in_four_languages() {
        let rules = config_cache::snapshot().rules.clone();
        let cases = [
            (
                "Hello, are there any job openings for accountants?",
                Some("jobs"),
            ),
            ("Ndashaka akazi", Some("jobs")),
            ("Je cherche un emploi", Some("jobs")),
            ("natafuta kazi", Some("jobs")),
            ("I need a job as a driver", Some("jobs")),
            ("inzu yo gukodesha", Some("property")),
            ("maison à louer", Some("property")),
            ("J'ai une maison à louer", Some("property")),
            ("I want to rent a car", Some("mobility")),
            ("I need a ride to the airport", Some("mobility")),
            ("assurance moto", Some("insurance")),
            ("ubwishingizi", Some("insurance")),
            ("motor insurance for my car", Some("insurance")),
            ("I want to sell my motorbike", Some("marketplace")),
            ("premium quality shoes", Some("marketplace")),
            ("what is your return policy", Some("marketplace")),
            (
                "my number is 0788123456, I want the house",
                Some("property"),
            ),
            ("I want to change my name", Some("profile")),
            ("Can I talk to the AI assistant?", Some("ai_agents")),
            ("Good morning", None),
            ("Muraho", None),
            ("yego", None),
            ("", None),
        ];
        for (t, expected) in cases {
            assert_eq!(
                rules.detect(&text(t), &protected).map(|d| d.domain),
                expected,
                "{t:?}"
            );
        }
        for (id, domain) in [
            ("jobs_post_vacancy", "jobs"),
            ("marketplace_sell", "marketplace"),
            ("property_list", "property"),
            ("mobility_book", "mobility"),
            ("profile_edit", "profile"),
            ("insurance_renew", "insurance"),
            ("ai_agents_chat", "ai_agents"),
        ] {
            let message = Inbound {
                kind: Some("interactive"),
                ids: vec![id],
                // The label says something else: the id wins.
                texts: vec![(Field::Title, "Sell an item")],
                ..Default::default()
            };
            assert_eq!(
                rules.detect(&message, &protected).map(|d| d.domain),
                Some(domain),
                "{id}"
            );
        }
        let cv = Inbound {
            kind: Some("document"),
            texts: vec![(Field::Filename, "CV_Jean_Claude.pdf")],
            ..Default::default()
        };
        assert_eq!(
            rules.detect(&cv, &protected).map(|d| d.domain),
            Some("jobs")
        );
        let ad = Inbound {
            kind: Some("text"),
            texts: vec![
                (Field::Body, "Hi, I saw your ad"),
                (Field::AdHeadline, "Apartments for rent in Kigali"),
            ],
            ..Default::default()
        };
        assert_eq!(
            rules.detect(&ad, &protected).map(|d| d.domain),
            Some("property")
        );
    }

    /// Issue 24's kinds, with the seeded rules: ids and Flow tokens read as words, asks as
    /// requests, signing up as a role, and an assistant's conversation that keeps a question
    /// naming another domain but leaves on an ask.
    #[pg_test]
    fn seeded_rules_read_ids_asks_roles_and_questions() {
        use crate::route::policy::{follow, Turn};
        use crate::route::row::Conversation;
        let rules = config_cache::snapshot().rules.clone();
        let picked = |kind, ids: Vec<&'static str>, texts: Vec<(Field, &'static str)>| Inbound {
            kind: Some(kind),
            ids,
            texts,
            ..Default::default()
        };
        for (message, expected) in [
            (picked("button", vec!["vacancyAlert_view"], vec![]), "jobs"),
            (
                picked("button", vec!["rent_due_reminder"], vec![]),
                "property",
            ),
            (
                picked("interactive", vec!["interview_confirm"], vec![]),
                "jobs",
            ),
            (
                picked(
                    "interactive",
                    vec![],
                    vec![(
                        Field::FlowReply,
                        r#"{"flow_token":"motorInsuranceQuote-2"}"#,
                    )],
                ),
                "insurance",
            ),
        ] {
            let d = rules.detect(&message, &protected);
            assert_eq!(d.as_ref().map(|d| d.domain), Some(expected), "{message:?}");
        }
        let cases = [
            ("I want to sign up as a taxi driver", "mobility"),
            ("Ndashaka kwiyandikisha nk'umumotari", "mobility"),
            ("je veux devenir chauffeur sur votre plateforme", "mobility"),
            ("why do onions make us cry?", "ai_agents"),
        ];
        for (t, expected) in cases {
            assert_eq!(
                rules.detect(&text(t), &protected).map(|d| d.domain),
                Some(expected),
                "{t:?}"
            );
        }
        assert_eq!(rules.detect(&text("how are you?"), &protected), None);
        let assistant = Conversation {
            id: 1,
            domain: "ai_agents".into(),
            unified: true,
        };
        // (Asking which papers it takes is itself the assistant's: 3.5, with its topic.)
        let papers = text("which papers does the seller of a plot of land need to show for a land title transfer and the house on it?");
        assert_eq!(
            rules.detect(&papers, &protected).map(|d| d.domain),
            Some("ai_agents")
        );
        let question = text("what does the seller of a plot of land need to show for a land title transfer and the house on it?");
        let d = rules.detect(&question, &protected).unwrap();
        assert_eq!(
            (d.domain, d.question, d.requested),
            ("property", true, false)
        );
        assert_eq!(
            follow(Some(&d), Some(&assistant), None),
            Turn::Follow(&assistant)
        );
        for ask in [
            "ok. and do you have plots for sale in Bugesera?",
            "can I buy a fridge here?",
            "actually, I'd rather find a job first. anything in sales?",
            "mufite inzu zo gukodesha i Remera?",
        ] {
            let d = rules.detect(&text(ask), &protected).unwrap();
            assert!(d.requested, "{ask:?}");
            assert_eq!(
                follow(Some(&d), Some(&assistant), None),
                Turn::Switch { pinned: false },
                "{ask:?}"
            );
        }
        // What is given to translate is not what the writer wants.
        for (t, expected) in [
            (
                "translate to French: my motorbike insurance has expired",
                "ai_agents",
            ),
            ("my motorbike insurance has expired", "insurance"),
            (
                "tafsiri kwa Kiingereza: \"nataka kununua simu mpya\"",
                "ai_agents",
            ),
        ] {
            assert_eq!(
                rules.detect(&text(t), &protected).map(|d| d.domain),
                Some(expected),
                "{t:?}"
            );
        }
        // A turn alone goes on with the assistant's question; elsewhere it requests, and so
        // does asking whether the service has something, anywhere in the text.
        let buyer = Conversation {
            id: 3,
            domain: "marketplace".into(),
            unified: true,
        };
        for turn in ["et le transport des invités ?", "and houses for rent?"] {
            let d = rules.detect(&text(turn), &protected).unwrap();
            assert!(d.requested && !d.asked, "{turn:?}");
            assert_eq!(
                follow(Some(&d), Some(&assistant), None),
                Turn::Follow(&assistant),
                "{turn:?}"
            );
            assert!(
                matches!(follow(Some(&d), Some(&buyer), None), Turn::Switch { .. }),
                "{turn:?}"
            );
        }
        for ask in [
            "thanks. do you have any receptionist jobs open now?",
            "merci. et vous avez des locaux commerciaux à louer à Remera ?",
        ] {
            let d = rules.detect(&text(ask), &protected).unwrap();
            assert!(d.asked, "{ask:?}");
            assert_eq!(
                follow(Some(&d), Some(&assistant), None),
                Turn::Switch { pinned: false },
                "{ask:?}"
            );
        }
        assert!(
            !rules
                .detect(
                    &text("what do you have to show to rent a house?"),
                    &protected
                )
                .unwrap()
                .asked
        );
        // An ask to the assistant takes the routable domains' words after it as its topic,
        // not a protected domain's.
        for (t, expected) in [
            ("write me a cover letter for a nursing job", "ai_agents"),
            (
                "what is the difference between a CV and a cover letter?",
                "ai_agents",
            ),
            (
                "explain to me why my insurance claim was refused",
                "insurance",
            ),
        ] {
            assert_eq!(
                rules.detect(&text(t), &protected).map(|d| d.domain),
                Some(expected),
                "{t:?}"
            );
        }
        // "nshobora", "naweza": "I can" in a statement, "can I" in a question.
        let seeker = Conversation {
            id: 2,
            domain: "jobs".into(),
            unified: true,
        };
        for (t, requested) in [
            ("Nshobora gutwara imodoka", false),
            ("Nshobora gutumiza imodoka?", true),
            ("naweza kuendesha gari", false),
            ("naweza kupata teksi?", true),
        ] {
            let d = rules.detect(&text(t), &protected).unwrap();
            assert_eq!((d.domain, d.requested), ("mobility", requested), "{t:?}");
            if !requested {
                assert_eq!(
                    follow(Some(&d), Some(&seeker), None),
                    Turn::Follow(&seeker),
                    "{t:?}"
                );
            }
        }
    }

    /// A protected domain's word right after a word of wanting is what is wanted, whatever the
    /// place or purpose named after it; a follow-up question that opens with a turn asks to
    /// know; a ride asked for in the assistant's conversation leaves it, even as one word.
    #[pg_test]
    fn protected_objects_turned_questions_and_rides_from_the_assistant() {
        use crate::core::config::Config;
        use crate::route::policy::{follow, Turn};
        use crate::route::row::Conversation;
        let rules = config_cache::snapshot().rules.clone();
        for (t, expected) in [
            ("nshaka moto injyana ku isoko rya Nyabugogo", "mobility"),
            (
                "I need a car to go and see the shop I am renting",
                "mobility",
            ),
            ("nataka teksi kwenda kuona nyumba ya kupanga", "mobility"),
            // A vehicle after a word of selling is sold, not ridden.
            ("ndashaka kugurisha moto yanjye", "marketplace"),
            // Nor after a word of ability: "I can carry loads".
            ("kazi yoyote? naweza kubeba mizigo", "jobs"),
        ] {
            assert_eq!(
                rules.detect(&text(t), &protected).map(|d| d.domain),
                Some(expected),
                "{t:?}"
            );
        }
        let d = rules
            .detect(
                &text("and where do they sell second hand phones?"),
                &protected,
            )
            .unwrap();
        assert_eq!(
            (d.domain, d.question, d.asked),
            ("marketplace", true, false)
        );
        let assistant = Conversation {
            id: 4,
            domain: "ai_agents".into(),
            unified: true,
        };
        assert_eq!(
            follow(Some(&d), Some(&assistant), None),
            Turn::Follow(&assistant)
        );
        let config = Config::default();
        let ride = rules
            .detect(&text("thanks, now I need a moto to town"), &protected)
            .unwrap();
        assert_eq!((ride.domain, ride.asked), ("mobility", true));
        assert!(ride.score < crate::route::policy::SWITCH_SCORE);
        assert_eq!(
            follow(Some(&ride), Some(&assistant), Some(&config)),
            Turn::Switch { pinned: false }
        );
    }

    /// The assistant's general questions that use other domains' words, goods listed without
    /// a verb, places to rent that are not houses, a fare asked with "jusqu'à": the seventh
    /// round's classes, with examples of their own; and a protected domain asked of one's own
    /// case stays protected.
    #[pg_test]
    fn general_questions_listed_goods_and_rented_shops() {
        let rules = config_cache::snapshot().rules.clone();
        for (t, expected) in [
            (
                "explain how motorbike insurance works in general",
                "ai_agents",
            ),
            (
                "sobanura uko ubwishingizi bw'inzu bukora muri rusange",
                "ai_agents",
            ),
            (
                "explain in general how my insurance claim is paid",
                "insurance",
            ),
            (
                "nsobanurira impamvu ubwishingizi bwanjye bwanze kwishyura",
                "insurance",
            ),
            (
                "what are my rights if the landlord keeps the deposit?",
                "ai_agents",
            ),
            (
                "haki zangu ni zipi kama mwajiri hanilipi mshahara?",
                "ai_agents",
            ),
            (
                "nisaidie kuandika barua ya kuomba kazi ya uhasibu",
                "ai_agents",
            ),
            ("can you help me write my cv for a sales job", "ai_agents"),
            ("which crops do well in a dry season?", "ai_agents"),
            (
                "Double bed with mattress, barely used, 150,000 RWF",
                "marketplace",
            ),
            ("je cherche un acheteur pour mon pick-up", "marketplace"),
            ("is there a shop to rent near the bus park?", "property"),
            ("kuna ghala la kukodi Kicukiro?", "property"),
            ("turashaka abantu 5 bo gusukura i Remera", "jobs"),
            ("et jusqu'a Nyamirambo, ca fait combien ?", "mobility"),
        ] {
            assert_eq!(
                rules.detect(&text(t), &protected).map(|d| d.domain),
                Some(expected),
                "{t:?}"
            );
        }
    }

    /// Mid-conversation, the seeded rules and `follow` together: a protected domain named in a
    /// question leaves a routable conversation; the assistant keeps "how can I …" and a
    /// statement full of a routable domain's words; openings that invite a question or ask
    /// what the law allows are the assistant's.
    #[pg_test]
    fn what_moves_a_conversation() {
        use crate::core::config::Config;
        use crate::route::policy::{follow, Turn};
        use crate::route::row::Conversation;
        let rules = config_cache::snapshot().rules.clone();
        let config = Config::default();
        let conversation = |domain: &str| Conversation {
            id: 5,
            domain: domain.into(),
            unified: true,
        };
        let (tenant, assistant) = (conversation("property"), conversation("ai_agents"));
        for (t, within, leaves) in [
            (
                "by the way, do you also do fire insurance for my shop?",
                &tenant,
                true,
            ),
            ("ese mwampa ubwishingizi bw'inzu?", &tenant, true),
            ("is the flat far from the bus stop?", &tenant, false),
            (
                "how can I sell vegetables at a good price?",
                &assistant,
                false,
            ),
            (
                "help me write a cv for a waiter job, I worked 3 years",
                &assistant,
                false,
            ),
            (
                "ok now show me houses for rent in Kicukiro",
                &assistant,
                true,
            ),
        ] {
            let d = rules.detect(&text(t), &protected).unwrap();
            assert_eq!(
                matches!(
                    follow(Some(&d), Some(within), Some(&config)),
                    Turn::Switch { .. }
                ),
                leaves,
                "{t:?}: {d:?}"
            );
        }
        for t in [
            "Ask your question, we answer in a minute",
            "posez votre question ici",
            "he fired me without notice, is that legal?",
        ] {
            assert_eq!(
                rules.detect(&text(t), &protected).map(|d| d.domain),
                Some("ai_agents"),
                "{t:?}"
            );
        }
    }

    /// The hard kinds of the eighth round: a protected domain of the writer's own asked in the
    /// assistant's conversation leaves it; a word of asking inside a question that opens with a
    /// question word, or someone else's wanting in a question, asks to know; a pick from a
    /// protected domain's own menu stays in it; an app's id asks nothing.
    #[pg_test]
    fn questions_of_ones_own_and_of_others_and_protected_menus() {
        use crate::core::config::Config;
        use crate::route::policy::{follow, Turn};
        use crate::route::row::Conversation;
        let rules = config_cache::snapshot().rules.clone();
        let config = Config::default();
        let conversation = |domain: &str| Conversation {
            id: 5,
            domain: domain.into(),
            unified: domain != "insurance",
        };
        let (assistant, seeker) = (conversation("ai_agents"), conversation("jobs"));
        let insurer = conversation("insurance");
        let leaves = |m: &Inbound, within: &Conversation| {
            let d = rules.detect(m, &protected);
            matches!(
                follow(d.as_ref(), Some(within), Some(&config)),
                Turn::Switch { .. }
            )
        };
        for (t, within, expected) in [
            (
                "ma police d'assurance auto expire lundi, comment la renouveler ?",
                &assistant,
                true,
            ),
            (
                "ubwishingizi bw'imodoka yanjye burarangira, nabwongera nte?",
                &assistant,
                true,
            ),
            ("how does car insurance work in Rwanda?", &assistant, false),
            (
                "how many bags of maize per hectare can I expect?",
                &assistant,
                false,
            ),
            (
                "et si le bailleur veut reprendre la maison ?",
                &assistant,
                false,
            ),
            (
                "btw how do I get a taxi to the interview tomorrow?",
                &seeker,
                true,
            ),
            ("balance yangu ni ngapi sasa?", &seeker, true),
        ] {
            assert_eq!(leaves(&text(t), within), expected, "{t:?}");
        }
        let pick = Inbound {
            kind: Some("interactive"),
            ids: vec!["vehicle_2"],
            texts: vec![(Field::Title, "Imodoka")],
            ..Default::default()
        };
        assert!(
            !leaves(&pick, &insurer),
            "a pick from the insurer's own menu"
        );
        let template = Inbound {
            kind: Some("button"),
            ids: vec!["where_now_7"],
            texts: vec![(Field::ButtonText, "Suivre")],
            ..Default::default()
        };
        assert_eq!(rules.detect(&template, &protected).map(|d| d.domain), None);
        for (t, domain) in [
            ("we want to hire a driver for our delivery van", "jobs"),
            (
                "le chauffeur conduisait trop vite et parlait au telephone",
                "mobility",
            ),
            (
                "nauli kutoka Kimironko hadi Remera ni bei gani?",
                "mobility",
            ),
            ("ese credit yanjye isigaye ni angahe?", "profile"),
            ("combien de credit il me reste sur le compte ?", "profile"),
            ("explain the labour law on sick leave", "ai_agents"),
            (
                "naandikaje barua ya maombi ya kazi ya udereva?",
                "ai_agents",
            ),
            ("je cherche un bureau de 30 m2 a Kacyiru", "property"),
        ] {
            assert_eq!(
                rules.detect(&text(t), &protected).map(|d| d.domain),
                Some(domain),
                "{t:?}"
            );
        }
    }

    /// Typo tolerance reads no common word of the four languages as a domain word: every
    /// seeded pattern word of seven letters or more against words people write that are not
    /// about any domain.
    #[pg_test]
    fn typos_do_not_invent_matches() {
        let rules = config_cache::snapshot().rules.clone();
        let common = [
            "because",
            "message",
            "morning",
            "evening",
            "another",
            "between",
            "thanks",
            "tomorrow",
            "yesterday",
            "something",
            "everything",
            "question",
            "answered",
            "problem",
            "please",
            "friends",
            "children",
            "possible",
            "bonjour",
            "bonsoir",
            "merci",
            "demain",
            "toujours",
            "quelque",
            "beaucoup",
            "maintenant",
            "pourquoi",
            "question",
            "probleme",
            "mwaramutse",
            "mwiriwe",
            "murakoze",
            "ndabashimiye",
            "ejobundi",
            "amakuru",
            "nonaha",
            "ntabwo",
            "kubera",
            "umuntu",
            "abantu",
            "umwana",
            "abana",
            "asubuhi",
            "jioni",
            "tafadhali",
            "asante",
            "sawasawa",
            "kesho",
            "kwaheri",
            "habari",
            "rafiki",
            "watoto",
            "samahani",
            "kubaza",
            "kumenya",
            "kuvuga",
            "kwishyura",
            "ndagukunda",
            "ndabizi",
            "ntabizi",
            "nshimiye",
        ];
        // (A question word alone is the assistant's by a weak rule, not by a typo.)
        for w in common {
            assert_eq!(
                rules
                    .detect(&text(w), &protected)
                    .filter(|d| !d.weak)
                    .map(|d| d.domain),
                None,
                "{w}"
            );
        }
        assert!(
            rules.typo_of("registation").is_some(),
            "registration, a letter missing"
        );
    }

    /// Rules are rows: an operator's edit applies to the next decision.
    #[pg_test]
    fn operators_edit_rules_as_rows() {
        let message = text("umuhinzi w'ikawa");
        assert_eq!(
            config_cache::snapshot().rules.detect(&message, &protected),
            None
        );
        Spi::run(
            "INSERT INTO webhook_routing_rules (domain, match_kind, pattern, language) \
             VALUES ('jobs', 'keyword', 'umuhinzi', 'rw')",
        )
        .unwrap();
        assert_eq!(
            config_cache::snapshot()
                .rules
                .detect(&message, &protected)
                .map(|d| d.domain),
            Some("jobs")
        );
        Spi::run("UPDATE webhook_routing_rules SET effect = 'weak' WHERE pattern = 'umuhinzi'")
            .unwrap();
        let weak = config_cache::snapshot()
            .rules
            .detect(&message, &protected)
            .map(|d| (d.domain.to_owned(), d.weak));
        assert_eq!(weak, Some(("jobs".to_owned(), true)));
        Spi::run("UPDATE webhook_routing_rules SET enabled = false WHERE pattern = 'umuhinzi'")
            .unwrap();
        assert_eq!(
            config_cache::snapshot().rules.detect(&message, &protected),
            None
        );
    }

    #[pg_test(error = "keyword pattern \"***\" has no letters or digits")]
    fn a_keyword_without_letters_is_refused() {
        Spi::run(
            "INSERT INTO webhook_routing_rules (domain, match_kind, pattern) VALUES ('jobs', 'keyword', '***')",
        )
        .unwrap();
    }

    #[pg_test(error = "invalid rule effect \"strong\"")]
    fn an_unknown_effect_is_refused() {
        Spi::run(
            "INSERT INTO webhook_routing_rules (domain, match_kind, pattern, effect) VALUES ('jobs', 'keyword', 'kazi', 'strong')",
        )
        .unwrap();
    }
}

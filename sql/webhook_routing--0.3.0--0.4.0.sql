-- webhook_routing 0.3.0 → 0.4.0. ALTER EXTENSION webhook_routing UPDATE runs this; the result
-- matches a fresh 0.4.0 install (scripts/test compares the two, tests/upgrade/describe.sql).
-- Every function and operator it uses is schema-qualified, as in every script of the extension.
--
-- - Detection scores: rules get an effect (match, weak, exclude), a weight and a language;
--   see src/detect.rs.
-- - The seeded keywords are replaced by the rules of sql/seed_rules.sql (English, French,
--   Kinyarwanda, Swahili). A seeded keyword an operator disabled stays disabled if it is still
--   seeded; rules operators added are kept as they are.
-- - explain_route(message, include_disabled) says why a message goes where it goes.
-- - Every row of the config history is announced on the channel webhook_routing.

ALTER TABLE @extschema@.webhook_routing_rules
    ADD COLUMN effect text NOT NULL DEFAULT 'match' CHECK (effect OPERATOR(pg_catalog.=) ANY (ARRAY['match', 'weak', 'exclude'])),
    ADD COLUMN weight real CHECK (weight OPERATOR(pg_catalog.>) 0 AND weight OPERATOR(pg_catalog.<=) 100),
    ADD COLUMN language text CHECK (language OPERATOR(pg_catalog.~) '^[a-z]{2,3}$');

CREATE OR REPLACE FUNCTION @extschema@.webhook_routing_rules_validate() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    pattern text := btrim(NEW.pattern);
    types text[] := ARRAY['text', 'image', 'audio', 'video', 'document', 'sticker', 'location',
                          'contacts', 'interactive', 'button', 'order', 'reaction', 'system',
                          'request_welcome', 'unsupported', 'unknown'];
    existing bigint;
BEGIN
    IF NEW.domain IS NULL OR NEW.match_kind IS NULL OR NEW.pattern IS NULL THEN
        RAISE EXCEPTION 'a rule needs a domain, a match_kind and a pattern'
            USING ERRCODE = 'null_value_not_allowed',
                  HINT = 'E.g. (domain, match_kind, pattern) = (''jobs'', ''keyword'', ''job*'').';
    END IF;
    IF NEW.domain !~ '^[a-z][a-z0-9_]{0,62}$' THEN
        RAISE EXCEPTION 'invalid rule domain "%"', NEW.domain
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = 'A domain name has lowercase letters, digits and underscores, starts with a letter, and has at most 63 characters.',
                  HINT = 'Use the domain names of the routing config, e.g. jobs or ai_agents.';
    END IF;
    IF NEW.match_kind NOT IN ('keyword', 'id_prefix', 'message_type') THEN
        RAISE EXCEPTION 'invalid match_kind "%"', NEW.match_kind
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'match_kind is keyword, id_prefix or message_type.';
    END IF;
    IF pattern = '' THEN
        RAISE EXCEPTION 'empty rule pattern'
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Give the word, phrase, id prefix or message type to match.';
    END IF;
    IF length(pattern) > 200 THEN
        RAISE EXCEPTION 'rule pattern is too long'
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = pg_catalog.format('It has %s characters; at most 200 are allowed.', length(pattern)),
                  HINT = 'Match on a shorter word or phrase.';
    END IF;
    IF NEW.match_kind = 'keyword' THEN
        IF pattern !~ '[[:alnum:]]' THEN
            RAISE EXCEPTION 'keyword pattern "%" has no letters or digits', pattern
                USING ERRCODE = 'invalid_parameter_value',
                      DETAIL = 'Keywords match whole words of the message text; punctuation is ignored.',
                      HINT = 'Use words, e.g. ''looking for work'', or a stem, e.g. ''job*''.';
        END IF;
        IF pattern ~ '\*.' AND pattern !~ '^\*[^*[:space:]]+\*$' THEN
            RAISE EXCEPTION 'keyword pattern "%" has a * before its end', pattern
                USING ERRCODE = 'invalid_parameter_value',
                      DETAIL = 'A * may end a pattern, where it makes the last word a stem, or enclose one word, which then matches inside words.',
                      HINT = 'Write ''job*'' to match job, jobs and jobseeker, or ''*kodesh*'' to match gukodesha and ndakodesha; patterns are not regular expressions.';
        END IF;
        IF pattern ~ '^\*' AND length(pattern) < 5 THEN
            RAISE EXCEPTION 'root pattern "%" is too short', pattern
                USING ERRCODE = 'invalid_parameter_value',
                      DETAIL = 'A root (*...*) matches inside any word; under three letters it matches almost every message.',
                      HINT = 'Use a root of three letters or more, e.g. ''*kodesh*''.';
        END IF;
    ELSIF NEW.match_kind = 'message_type' AND NOT (lower(pattern) = ANY (types)) THEN
        RAISE EXCEPTION 'unknown message type "%"', pattern
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = pg_catalog.format('WhatsApp message types: %s.', array_to_string(types, ', ')),
                  HINT = 'Use one of the message types WhatsApp sends.';
    ELSIF NEW.match_kind = 'id_prefix' AND pattern ~ '\s' THEN
        RAISE EXCEPTION 'id prefix "%" has a space', pattern
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = 'Interactive reply ids and button payloads have no spaces.',
                  HINT = 'Use the start of the ids your templates send, e.g. jobs_.';
    END IF;
    IF NEW.effect IS NULL OR NEW.effect NOT IN ('match', 'weak', 'exclude') THEN
        RAISE EXCEPTION 'invalid rule effect "%"', NEW.effect
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = 'match adds points to the domain; weak counts only when no match rule matched; exclude takes back the domain''s points where it matches.',
                  HINT = 'effect is match, weak or exclude.';
    END IF;
    IF NEW.weight IS NOT NULL AND NOT (NEW.weight > 0 AND NEW.weight <= 100) THEN
        RAISE EXCEPTION 'invalid rule weight %', NEW.weight
            USING ERRCODE = 'invalid_parameter_value',
                  DETAIL = 'A weight is the points of a match: more than 0, at most 100.',
                  HINT = 'Leave it NULL for the default of the pattern''s shape (a word 2, a phrase 3, an id prefix 8).';
    END IF;
    IF NEW.language IS NOT NULL AND NEW.language !~ '^[a-z]{2,3}$' THEN
        RAISE EXCEPTION 'invalid rule language "%"', NEW.language
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Use an ISO 639 code in lowercase: en, fr, rw, sw.';
    END IF;
    SELECT r.id INTO existing FROM @extschema@.webhook_routing_rules AS r
    WHERE r.match_kind = NEW.match_kind AND r.pattern = NEW.pattern AND r.domain = NEW.domain
      AND r.id <> NEW.id;
    IF FOUND THEN
        RAISE EXCEPTION 'rule % already matches % "%" to %', existing, NEW.match_kind, NEW.pattern, NEW.domain
            USING ERRCODE = 'unique_violation',
                  HINT = pg_catalog.format('Update rule %s instead, e.g. its priority or enabled.', existing);
    END IF;
    RETURN NEW;
END $$;

CREATE OR REPLACE FUNCTION @extschema@.webhook_routing_rules_restore() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    fresh bigint;
BEGIN
    -- The fresh seed with the row's id, or else with its pattern (a dump of another version).
    SELECT r.id INTO fresh FROM @extschema@.webhook_routing_rules AS r
    WHERE r.seeded AND (r.id = NEW.id
                        OR (r.match_kind = NEW.match_kind AND r.pattern = NEW.pattern AND r.domain = NEW.domain))
    ORDER BY r.id = NEW.id DESC LIMIT 1;
    IF NOT FOUND THEN
        RETURN NEW;
    END IF;
    UPDATE @extschema@.webhook_routing_rules AS r
    SET id = NEW.id, domain = NEW.domain, match_kind = NEW.match_kind, pattern = NEW.pattern,
        priority = NEW.priority, effect = NEW.effect, weight = NEW.weight, language = NEW.language,
        enabled = NEW.enabled, note = NEW.note, created_at = NEW.created_at
    WHERE r.id = fresh;
    RETURN NULL;
END $$;

CREATE FUNCTION @extschema@."explain_route"(
	"message" jsonb, /* Option < JsonbArg < '_ > > */
	"include_disabled" bool DEFAULT false /* bool */
) RETURNS TABLE (
	"step" TEXT,  /* String */
	"domain" TEXT,  /* Option < String > */
	"points" real,  /* Option < f32 > */
	"rule_id" bigint,  /* Option < i64 > */
	"match_kind" TEXT,  /* Option < String > */
	"pattern" TEXT,  /* Option < String > */
	"effect" TEXT,  /* Option < String > */
	"language" TEXT,  /* Option < String > */
	"enabled" bool,  /* Option < bool > */
	"field" TEXT,  /* Option < String > */
	"matched" TEXT,  /* Option < String > */
	"note" TEXT  /* Option < String > */
)
STABLE PARALLEL SAFE
LANGUAGE c /* Rust */
AS 'MODULE_PATHNAME', 'explain_route_wrapper';

-- Events. Every row of the config history (each percentage or switch change, by hand or by a
-- plan, and each transition of a plan: start, advance, complete, pause, resume, rollback, abort)
-- sends a notification on the channel `webhook_routing` when its transaction commits, with the
-- state after the change as JSON: the row (config_id, action, reason, changed_by, created_at,
-- enabled, percentage, domains, protected_domains, domain_percentages, domain_enabled, rollout_id,
-- detail) and, for a plan's transition, the plan as it now stands (rollout). A payload over
-- 7,900 bytes (PostgreSQL allows 8,000) leaves out `detail` and says so (detail_truncated).
-- Listeners need a session of their own (LISTEN webhook_routing; not through a transaction
-- pooler).
CREATE FUNCTION @extschema@.webhook_routing_config_notify() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    event jsonb;
    payload text;
BEGIN
    event := jsonb_build_object(
        'event', 'config', 'config_id', NEW.id, 'action', NEW.action, 'reason', NEW.reason,
        'changed_by', NEW.changed_by, 'created_at', NEW.created_at, 'enabled', NEW.enabled,
        'percentage', NEW.percentage, 'domains', to_jsonb(NEW.domains),
        'protected_domains', to_jsonb(NEW.protected_domains), 'domain_percentages', NEW.domain_percentages,
        'domain_enabled', NEW.domain_enabled, 'rollout_id', NEW.rollout_id, 'detail', NEW.detail);
    IF NEW.rollout_id IS NOT NULL THEN
        event := event || coalesce((
            SELECT jsonb_build_object('rollout', jsonb_build_object(
                       'id', r.id, 'domain', r.domain, 'state', r.state, 'step', r.step,
                       'steps', to_jsonb(r.steps), 'hold', r.hold::text, 'step_started_at', r.step_started_at,
                       'last_verdict', r.last_verdict))
            FROM @extschema@.webhook_routing_rollouts AS r WHERE r.id = NEW.rollout_id), '{}');
    END IF;
    payload := event::text;
    IF octet_length(payload) > 7900 THEN
        payload := ((event - 'detail') || jsonb_build_object('detail_truncated', true))::text;
    END IF;
    PERFORM pg_notify('webhook_routing', payload);
    RETURN NULL;
END $$;

-- Deferred to the commit, so that the plan it describes is the plan as committed (a transition
-- writes its history row before or after its plan, as it goes).
CREATE CONSTRAINT TRIGGER webhook_routing_config_notify
    AFTER INSERT ON @extschema@.webhook_routing_config
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION @extschema@.webhook_routing_config_notify();

REVOKE ALL ON FUNCTION @extschema@.explain_route(jsonb, boolean) FROM PUBLIC;
REVOKE ALL ON FUNCTION @extschema@.webhook_routing_config_notify() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@.explain_route(jsonb, boolean)
    TO webhook_routing_reader, webhook_routing_admin;

-- A shared location is weak now: alone it is a ride request, beside a text that names a domain
-- it says nothing.
UPDATE @extschema@.webhook_routing_rules
SET effect = 'weak', note = 'a shared location, when nothing else says more'
WHERE seeded AND match_kind OPERATOR(pg_catalog.=) 'message_type' AND pattern OPERATOR(pg_catalog.=) 'location'
  AND domain OPERATOR(pg_catalog.=) 'mobility';

-- The seeded keywords: the old ones go (a seeded row is otherwise never deleted), the new ones
-- come, and what an operator disabled stays disabled.
CREATE TEMPORARY TABLE webhook_routing_disabled_seeds AS
SELECT pattern, domain FROM @extschema@.webhook_routing_rules
WHERE seeded AND match_kind OPERATOR(pg_catalog.=) 'keyword' AND NOT enabled;
ALTER TABLE @extschema@.webhook_routing_rules DISABLE TRIGGER webhook_routing_rules_keep_seeds;
DELETE FROM @extschema@.webhook_routing_rules WHERE seeded AND match_kind OPERATOR(pg_catalog.=) 'keyword';
ALTER TABLE @extschema@.webhook_routing_rules ENABLE TRIGGER webhook_routing_rules_keep_seeds;

INSERT INTO @extschema@.webhook_routing_rules (domain, match_kind, pattern, priority, weight, effect, language, seeded)
SELECT k.domain, 'keyword', pattern,
       CASE WHEN k.domain OPERATOR(pg_catalog.=) ANY (ARRAY['mobility', 'profile', 'insurance']) THEN 50 ELSE 100 END,
       k.weight, k.effect, k.language, true
FROM (VALUES
    -- jobs
    -- The words that name a domain outright weigh 3: a job, insurance.
    ('jobs', 'en', 3::real, 'match', ARRAY['job*', 'vacanc*', 'recruit*', 'internship*']),
    ('jobs', 'fr', 3, 'match', ARRAY['emploi*', 'recrut*']),
    ('jobs', 'rw', 3, 'match', ARRAY['*kazi*', '*kozi*']),
    ('jobs', 'sw', 3, 'match', ARRAY['ajira']),
    ('insurance', 'en', 3, 'match', ARRAY['insur*', 'mutuelle']),
    ('insurance', 'fr', 3, 'match', ARRAY['assur*']),
    ('insurance', 'rw', 3, 'match', ARRAY['*ishingiz*', 'mituweli', 'mitiweli', 'asiranse', 'asurance', 'asuranse']),
    ('insurance', 'sw', 3, 'match', ARRAY['bima']),
    ('jobs', 'en', NULL, 'match', ARRAY['hiring', 'employ*', 'career*', 'intern', 'cv', 'cvs', 'resume', 'curriculum vitae', 'work', 'worker*',
        'looking for work', 'work from home', 'part time', 'full time', 'apply for', 'interview*', 'position',
        'opening', 'openings', 'unemployed', 'housemaid*', 'house help', 'house girl', 'house boy', 'nanny',
        'cleaner', 'waiter', 'waitress', 'staff', 'casual labourer',
        'driver job', 'driving job', 'job as a driver', 'cover letter', 'vacant', 'applied', 'apply',
        'security guard', 'casual work', 'work as']),
    ('jobs', 'en', 1, 'match', ARRAY['permanent', 'temporary', 'contract']),
    ('jobs', 'fr', 1, 'match', ARRAY['temps plein', 'temps partiel']),
    ('jobs', 'en', 2, 'match', ARRAY['salar*', 'wage*']),
    ('jobs', 'en', 1, 'match', ARRAY['hire', 'applicant*', 'skills', 'qualification*', 'experience', 'application']),
    ('jobs', 'fr', NULL, 'match', ARRAY['travail', 'travailler', 'offre d''emploi', 'boulot', 'stage',
        'stages', 'stagiaire*', 'embauch*', 'candidatur*', 'postuler', 'poste', 'postes', 'chomage',
        'chomeur*', 'lettre de motivation', 'domestique', 'menagere', 'serveur', 'serveuse', 'gardien',
        'travaux', 'nounou', 'vacant*', 'agent de securite']),
    ('jobs', 'fr', 2, 'match', ARRAY['salaire*', 'metier*']),
    ('jobs', 'rw', NULL, 'match', ARRAY['imirimo', 'umurimo', 'umwuga', 'akazi ko gutwara', 'gukora nk', 'kwimenyereza',
        '*menyerez*', 'imyanya', 'umwanya w akazi']),
    ('jobs', 'rw', 2, 'match', ARRAY['umushahara*']),
    ('jobs', 'sw', NULL, 'match', ARRAY['*ajiri*', 'nafasi za kazi', '*fanyakazi*', 'kufanya kazi',
        'mafunzo kwa vitendo', 'nafasi za mafunzo']),
    ('jobs', 'sw', 2, 'match', ARRAY['mshahara*']),
    ('jobs', 'sw', 1, 'match', ARRAY['mafunzo']),
    -- marketplace
    ('marketplace', 'en', NULL, 'match', ARRAY['shop*', 'market*', 'product*', 'goods', 'item', 'items', 'catalog*',
        'cart', 'discount*', 'refund*', 'return policy', 'in stock', 'second hand', 'secondhand', 'used phone',
        'phone', 'phones', 'smartphone*', 'iphone*', 'samsung', 'laptop*', 'computer*', 'tv', 'television',
        'fridge', 'sofa', 'furniture', 'shoes', 'sneakers', 'clothes', 'dress', 'dresses', 'shirt*', 'jeans',
        'handbag*', 'bag', 'bags', 'electronics', 'wholesale', 'retail', 'seller*', 'buyer*', 'my order',
        'place an order', 'order status', 'track my order', 'delivery of my order', 'cash on delivery',
        'mattress*', 'cow', 'cows', 'goat*', 'chicken*', 'potatoes', 'beans', 'rice', 'bananas', 'tomatoes',
        'flash sale', 'tvs', 'sell my car', 'sell my motorbike', 'sell my moto', 'buy a car', 'buy a motorbike',
        'car for sale', 'motorbike for sale', 'moto for sale', 'used car', 'wholesale price', 'stove*']),
    ('marketplace', 'en', 1, 'match', ARRAY['sell*', 'buy*', 'purchas*', 'for sale', 'price*', 'cost', 'how much',
        'order', 'orders', 'delivery', 'deliver', 'cheap', 'stock', 'sale', 'available']),
    ('marketplace', 'fr', NULL, 'match', ARRAY['boutique*', 'magasin*', 'marche', 'produit*', 'commande*',
        'remboursement', 'rembourser', 'telephone', 'telephones', 'portable', 'ordinateur*', 'chaussures',
        'vetement*', 'habits', 'robe*', 'meuble*', 'frigo', 'refrigerateur', 'televiseur', 'occasion', 'promo*',
        'article*', 'vendeur*', 'acheteur*', 'marchandise*', 'sac', 'sacs', 'en gros', 'matelas', 'riz', 'soldes',
        'electromenager', 'vendre ma moto', 'vendre ma voiture', 'acheter une voiture', 'acheter une moto',
        'voiture a vendre', 'moto a vendre', 'cuisiniere*']),
    ('marketplace', 'fr', 1, 'match', ARRAY['vendre', 'vends', 'vend', 'vente', 'a vendre', 'acheter', 'achete',
        'achat', 'prix', 'combien', 'livraison', 'livrer']),
    ('marketplace', 'rw', NULL, 'match', ARRAY['isoko', 'amasoko', 'iduka', 'amaduka', '*curuz*',
        'telefone', 'terefone', 'inkweto', 'imyenda', 'ibikoresho', '*tumiz*', 'ibiribwa', 'inka', 'ihene',
        'inkoko', 'ibirayi', 'ibishyimbo', 'umuceri', 'intebe', 'matela', 'ishati', 'amashati', 'amashyiga',
        'kugurisha moto', 'kugurisha imodoka', 'kugura imodoka', 'kugura moto', 'imodoka yo kugura',
        'moto yo kugura']),
    ('marketplace', 'rw', 1, 'match', ARRAY['*gurish*', 'naguze', 'waguze', 'gusubiza', 'kugura', 'ndagura', 'nagura', 'tugura', 'kugurira', 'igiciro',
        'ibiciro', 'angahe', 'amafaranga angahe']),
    ('marketplace', 'sw', NULL, 'match', ARRAY['duka', 'maduka', 'soko', 'bidhaa', 'simu', 'viatu', 'nguo', 'agiza', 'kuagiza', 'oda', 'fanicha',
        'friji', 'kompyuta', 'mchele', 'maharage', 'ng''ombe', 'mbuzi', 'kuku', 'jumla', 'unga',
        'kuuza gari', 'kununua gari', 'kuuza pikipiki', 'kununua pikipiki', 'gari la kuuza']),
    ('marketplace', 'sw', 1, 'match', ARRAY['kuuza', 'nauza', 'tunauza', 'anauza', 'inauzwa', 'zinauzwa',
        'kununua', 'nunua', 'nanunua', 'ninanunua', 'kununu', 'bei',
        'shilingi ngapi', 'ngapi']),
    -- property
    ('property', 'en', NULL, 'match', ARRAY['house', 'houses', 'housing', 'flat for rent',
        'for rent', 'to let', 'land', 'plot', 'plots', 'real estate', 'rental house', 'villa', 'duplex', 'studio', 'bungalow',
        'rooms', 'room', 'room for rent', 'commercial space', 'office space', 'shop space', 'place to live',
        'place to stay', 'accommodation', 'house for sale', 'land for sale', 'plot for sale', 'home for rent',
        'sell my house', 'sell my land', 'buy a house', 'buy land', 'build a house', 'title deed', 'land title']),
    ('property', 'en', 1, 'match', ARRAY['rent', 'renting', 'rented', 'home', 'flat', 'lodge', 'hostel', 'space']),
    ('property', 'fr', 2, 'match', ARRAY['maison*', 'appartement*', 'loyer*', 'chambre*', 'terrain*',
        'parcelle*', 'proprietaire*', 'locataire*', 'immobili*', 'logement*']),
    ('property', 'fr', NULL, 'match', ARRAY['a louer', 'bail', 'maison a vendre', 'terrain a vendre',
        'vendre ma maison', 'acheter un terrain']),
    -- Not "location": in English it is where one is (a shared location, a settings menu).
    ('property', 'fr', 1, 'match', ARRAY['louer', 'loue']),
    ('property', 'rw', NULL, 'match', ARRAY['inzu', 'nzu', 'amazu', 'kibanza', 'umupangayi', 'abapangayi',
        'kugurisha inzu', 'kugurisha ikibanza', 'icumbi', 'aho kuba', '*kodesh*', 'ubukode', 'ikibanza', 'ibibanza',
        'isambu', 'ubutaka', 'icyumba', 'ibyumba', 'nyir inzu', 'gukodesha inzu', 'inzu yo gukodesha',
        'inzu igurishwa', 'kubaka', 'gutura']),
    ('property', 'en', 2, 'match', ARRAY['apartment*', 'appartment*', 'bedroom*', 'landlord*', 'tenant*',
        'lease*', 'propert*', 'mortgage*']),
    ('property', 'sw', NULL, 'match', ARRAY['nyumba', 'chumba', 'vyumba', 'kiwanja', 'viwanja', 'ardhi',
        'mwenye nyumba', 'nyumba ya kupanga', 'kupanga nyumba', '*kodish*', 'shamba', 'mashamba',
        'kuuza nyumba', 'kuuza kiwanja', 'nauza kiwanja', 'nauza nyumba', 'mahali pa kuishi']),
    ('property', 'sw', 1, 'match', ARRAY['kodi', 'kupanga', 'kupangisha']),
    -- mobility
    ('mobility', 'en', NULL, 'match', ARRAY['ride', 'rides', 'taxi*', 'cab', 'cabs', 'boda', 'minibus', 'coaster',
        'boda boda', 'trip', 'trips', 'transport*', 'pick me up', 'pickup', 'pick up', 'take me to', 'drop me',
        'fare', 'fares', 'bus', 'buses', 'car hire', 'hire a car', 'rent a car', 'car rental', 'rental car',
        'book a car', 'need a car to', 'airport', 'lift to', 'motorbike taxi', 'moto taxi', 'bus ticket',
        'ticket to', 'travel to']),
    ('mobility', 'en', 1, 'match', ARRAY['moto', 'motos', 'driver', 'drivers', 'rider', 'car', 'cars', 'vehicle*', 'motorbike*', 'motorcycle*',
        'lift', 'travel', 'ticket', 'tickets']),
    ('mobility', 'fr', NULL, 'match', ARRAY['taxi moto', 'trajet*', 'emmener', 'amener', 'me chercher',
        'me deposer', 'location de voiture', 'louer une voiture', 'voiture de location', 'deplacement*',
        'billet de bus', 'aeroport']),
    ('mobility', 'fr', 1, 'match', ARRAY['chauffeur*', 'course', 'voiture*', 'billet', 'billets', 'vehicule*']),
    ('mobility', 'rw', NULL, 'match', ARRAY['*motari*', 'tagisi', 'bisi', 'urugendo', 'ingendo', '*twar*',
        'itike', 'gare', '*jyan*', 'ngwino unjyane', 'gukodesha imodoka']),
    ('mobility', 'rw', 1, 'match', ARRAY['imodoka', 'kugenda', 'umushoferi', 'shoferi']),
    ('mobility', 'sw', NULL, 'match', ARRAY['usafiri', 'safari', 'teksi', '*pelek*', 'nauli', 'basi',
        'kukodi gari', 'gari la kukodi', 'tiketi', 'bodaboda']),
    ('mobility', 'sw', 1, 'match', ARRAY['gari', 'magari', 'pikipiki', 'dereva', 'kusafiri', 'kwenda']),
    -- profile
    ('profile', 'en', NULL, 'match', ARRAY['profile', 'profiles', 'my profile', 'my account', 'my details',
        'change my name', 'update my name', 'change my number', 'change my phone number', 'update my number',
        'new number', 'my language', 'change language', 'change the language', 'delete my data',
        'delete my account', 'close my account', 'deactivate*', 'register', 'registration', 'sign up',
        'signup', 'settings', 'my information', 'personal information', 'personal details', 'password',
        'log in', 'login', 'my email', 'change my email', 'unsubscribe',
        'stop messages', 'change my location', 'verification', 'personal data', 'my personal', 'about me',
        'surname', 'first name', 'last name', 'spelled wrong', 'misspelled']),
    ('profile', 'en', 1, 'match', ARRAY['account', 'language', 'my name', 'my number', 'my data', 'email',
        'phone number', 'update my', 'edit my', 'verify my', 'data', 'changed']),
    ('profile', 'fr', NULL, 'match', ARRAY['profil', 'mon profil', 'mon compte', 'mes informations', 'mes coordonnees',
        'changer mon nom', 'modifier mon nom', 'changer mon numero', 'modifier mon numero', 'changer de langue',
        'changer la langue', 'supprimer mon compte', 'supprimer mes donnees', 'mes donnees', 'inscription',
        'inscrire', 'parametres', 'mot de passe', 'desinscrire', 'desabonner', 'prenom', 'nouveau numero',
        'mes infos', 'infos perso', 'mon historique', 'mettre a jour', 'localisation', 'mon adresse']),
    ('profile', 'fr', 1, 'match', ARRAY['compte', 'langue', 'mon nom', 'mon numero', 'nom', 'modifier mon',
        'numero de telephone', 'effacer', 'supprimer', 'adresse', 'sur moi', 'informations']),
    ('profile', 'rw', NULL, 'match', ARRAY['*wirondoro*', 'konti', 'guhindura izina', 'guhindura nimero',
        'ururimi', '*iyandikish*', 'amakuru yanjye', 'gusiba konti', 'gusiba amakuru', 'hindura izina',
        'hindura nimero', 'hindura ururimi', 'aderesi', 'amazina yanjye', 'aho ntuye']),
    ('profile', 'rw', 1, 'match', ARRAY['izina', 'nimero', 'nomero', 'guhindura', 'gusiba', 'izina ryanjye',
        'nimero yanjye', 'nomero yanjye', 'amazina', 'yarahindutse', 'yahindutse']),
    ('profile', 'sw', NULL, 'match', ARRAY['wasifu', 'akaunti', 'kubadilisha jina', 'badilisha jina',
        'badilisha namba', 'lugha', '*jiandikish*', '*jisajil*', 'taarifa zangu', 'futa akaunti',
        'kufuta akaunti', 'maelezo yangu', 'anwani']),
    ('profile', 'sw', 1, 'match', ARRAY['jina', 'namba', 'badilisha', 'kubadilisha', 'jina langu', 'namba yangu',
        'nambari yangu', 'taarifa', 'imebadilika']),
    -- insurance
    ('insurance', 'en', NULL, 'match', ARRAY['insurance policy', 'home insurance', 'travel insurance', 'cover note', 'coverage', 'third party',
        'comprehensive cover', 'motor insurance', 'health insurance', 'life insurance', 'medical cover',
        'underwriter*', 'renew my policy', 'file a claim', 'make a claim', 'claim form',
        'accident claim', 'insured']),
    ('insurance', 'en', 1, 'match', ARRAY['policy', 'policies', 'claim', 'claims', 'premium', 'premiums', 'accident',
        'cover', 'compensation', 'renewal']),
    ('insurance', 'fr', NULL, 'match', ARRAY['police d''assurance', 'sinistre*', 'constat', 'indemnis*',
        'prime d''assurance', 'mutuelle de sante', 'carte verte']),
    ('insurance', 'fr', 1, 'match', ARRAY['couverture', 'police', 'prime', 'franchise']),
    ('insurance', 'rw', 3, 'match', ARRAY['*ishingir*']),
    ('insurance', 'rw', NULL, 'match', ARRAY['indishyi']),
    ('insurance', 'rw', 1, 'match', ARRAY['impanuka']),
    ('insurance', 'sw', NULL, 'match', ARRAY['fidia', 'bima ya gari', 'bima ya afya']),
    ('insurance', 'sw', 1, 'match', ARRAY['ajali', 'dai']),
    -- ai_agents
    ('ai_agents', 'en', NULL, 'match', ARRAY['ai', 'artificial intelligence', 'chatbot*', 'bot', 'robot*',
        'assistant*', 'agent', 'agents', 'chatgpt', 'gpt', 'are you a bot', 'are you a robot', 'are you human',
        'are you real', 'virtual assistant', 'ai agent', 'ai assistant', 'talk to the ai', 'ask the ai',
        'write me', 'write a', 'translate', 'translation', 'summarize', 'summarise',
        'explain', 'draft', 'proofread', 'ai agents', 'real person', 'tell me a', 'resume de', 
        'who are you']),
    ('ai_agents', 'en', 1, 'match', ARRAY['tell me', 'what is', 'who is', 'who was', 'how does', 'ideas', 'idea',
        'joke', 'poem', 'story', 'recipe', 'advice', 'homework', 'calculate', 'write', 'human', 'machine',
        'capital']),
    ('ai_agents', 'fr', 1, 'match', ARRAY['dis moi', 'raconte', 'donne moi', 'qu est ce que', 'idees', 'blague',
        'poeme', 'recette', 'conseil*', 'calcule', 'humain', 'ecrire', 'capitale']),
    ('ai_agents', 'fr', NULL, 'match', ARRAY['qui es tu', 'qui etes vous']),
    ('ai_agents', 'rw', 1, 'match', ARRAY['mbwira', 'mbwirira', 'wambwira', 'mpa inama', 'inama', 'kwandika',
        'amateka', 'ibaruwa', 'ikizamini', 'imashini', 'icyongereza', 'cyongereza', 'igifaransa', 'nteruro']),
    ('ai_agents', 'sw', 1, 'match', ARRAY['niambie', 'nieleze', 'kuandika', 'mawazo', 'hadithi', 'mji mkuu',
        'ni nini', 'ni nani', 'binadamu', 'mashine', 'barua']),
    ('ai_agents', 'fr', NULL, 'match', ARRAY['ia', 'intelligence artificielle', 'assistant virtuel', 'agent ia',
        'es tu un robot', 'tu es un robot', 'etes vous un robot', 'redige*', 'rediger',
        'traduire', 'traduis', 'traduction', 'resume moi', 'ecrire une', 'ecrire un', 'explique',
        'un resume', 'fais moi un']),
    ('ai_agents', 'rw', NULL, 'match', ARRAY['robo', 'uri robo', 'uri umuntu', 'ubwenge bw ubukorano',
        'ubwenge buhangano', 'sobanura', 'sobanurira',
        'hindura mu', 'ubusobanuro', 'mbarira', 'nsobanurira', 'uri nde']),
    ('ai_agents', 'sw', NULL, 'match', ARRAY['akili bandia', 'roboti', 'msaidizi', 'tafsiri',
        'eleza', 'nielezee', 'wewe ni roboti', 'wewe ni binadamu', 'nitafsirie',
        '*tafsiri*', 'wewe ni nani']),
    ('ai_agents', 'rw', 1, 'match', ARRAY['umufasha']),
    -- Asking for something to be written is asking the assistant, whatever the text is for.
    ('ai_agents', 'en', 4, 'match', ARRAY['help me write', 'help me draft', 'write for me']),
    ('ai_agents', 'fr', 4, 'match', ARRAY['aide moi a ecrire', 'aidez moi a ecrire', 'ecris moi', 'redige moi']),
    ('ai_agents', 'rw', 4, 'match', ARRAY['mfasha kwandika', 'nyandikira', 'nyandikira ibaruwa']),
    ('ai_agents', 'sw', 4, 'match', ARRAY['nisaidie kuandika', 'niandikie']),
    -- More of what users write, slang and loanwords: ikiraka, taf, ghetto, twegerane, RAMA, ...
    ('jobs', 'en', 2, 'match', ARRAY['unemployment', 'labourer*', 'laborer*', 'manpower', 'apprentice*', 'trainee*', 'freelanc*', 'housekeeper*', 'babysitter*']),
    ('jobs', 'en', 3, 'match', ARRAY['industrial attachment']),
    ('jobs', 'fr', 2, 'match', ARRAY['boulots', 'bosser', 'travaill*', 'ouvrier*', 'interimaire*', 'cdd', 'cdi']),
    ('jobs', 'fr', 3, 'match', ARRAY['taf', 'main oeuvre', 'femme de menage']),
    ('jobs', 'rw', 2, 'match', ARRAY['nyakabyizi', '*pagas*', '*shomer*', '*hembw*', 'umuyede', 'umuzamu', 'umukoresha', 'sitaje']),
    ('jobs', 'rw', 3, 'match', ARRAY['ikiraka', 'ibiraka', 'kiraka', 'guca inshuro']),
    ('jobs', 'sw', 1, 'match', ARRAY['uzoefu']),
    ('jobs', 'sw', 2, 'match', ARRAY['ujira', 'usaili', 'tarajali', 'mlinzi', 'hausigeli']),
    ('jobs', 'sw', 3, 'match', ARRAY['kibarua', 'vibarua', 'barua ya maombi']),
    ('marketplace', 'en', 2, 'match', ARRAY['supermarket*', 'grocer*', 'supplier*', 'vendor*', 'charger*', 'warranty']),
    ('marketplace', 'en', 3, 'match', ARRAY['out of stock', 'home delivery', 'spare parts']),
    ('marketplace', 'fr', 1, 'match', ARRAY['pas cher']),
    ('marketplace', 'fr', 2, 'match', ARRAY['supermarche', 'epicerie', 'alimentation', 'grossiste*', 'fournisseur*', 'vendeuse*', 'achats', 'livreur*', 'reduction']),
    ('marketplace', 'fr', 3, 'match', ARRAY['pieces de rechange']),
    ('marketplace', 'rw', 1, 'match', ARRAY['*hendut*', 'birahenze']),
    ('marketplace', 'rw', 2, 'match', ARRAY['*rangur*', '*ranguz*', '*gabanyiriz*', 'komande', 'mudasobwa', 'televiziyo', 'firigo', 'igitenge']),
    ('marketplace', 'rw', 3, 'match', ARRAY['ibikoresho byo mu nzu']),
    ('marketplace', 'sw', 1, 'match', ARRAY['unauza']),
    ('marketplace', 'sw', 2, 'match', ARRAY['muuzaji', 'wauzaji', 'mnunuzi', 'punguzo', 'mitumba', 'nimeagiza']),
    ('marketplace', 'sw', 3, 'match', ARRAY['bei gani']),
    ('property', 'en', 2, 'match', ARRAY['ghetto', 'getto', 'bedsitter*', 'furnished', 'realtor*', 'acre*', 'evict*', 'hectare*']),
    ('property', 'en', 3, 'match', ARRAY['self contained', 'monthly rent', 'shop for rent']),
    ('property', 'fr', 2, 'match', ARRAY['bailleur*', 'colocation', 'propriete*', 'foncier*', 'immeuble*', 'lotissement*', 'construire']),
    ('property', 'fr', 3, 'match', ARRAY['local commercial']),
    ('property', 'rw', 2, 'match', ARRAY['igipangu', 'inyubako', 'igorofa', 'amagorofa', 'amacumbi', 'imiturire', 'nyirinzu', 'komisiyoneri']),
    ('property', 'rw', 3, 'match', ARRAY['inzu y ubucuruzi', 'aho kurara']),
    ('property', 'sw', 2, 'match', ARRAY['mpangaji', 'wapangaji', '*pangish*', 'fremu', 'ghorofa', 'jengo', 'dalali']),
    ('property', 'sw', 3, 'match', ARRAY['kodi ya nyumba', 'hati miliki', 'mali isiyohamishika', 'nyumba ya kulala wageni']),
    ('mobility', 'en', 1, 'match', ARRAY['bolt']),
    ('mobility', 'en', 2, 'match', ARRAY['uber', 'passenger*', 'shuttle*', 'mototaxi*', 'tuktuk']),
    ('mobility', 'en', 3, 'match', ARRAY['tuk tuk', 'tap and go', 'pick me', 'drop off', 'take me home']),
    ('mobility', 'fr', 2, 'match', ARRAY['emmen*', 'navette*', 'covoiturage', 'passager*']),
    ('mobility', 'fr', 3, 'match', ARRAY['depose moi', 'deposez moi', 'viens me prendre', 'me deplacer', 'prix de la course']),
    ('mobility', 'rw', 1, 'match', ARRAY['ungeze', 'abashoferi']),
    ('mobility', 'rw', 2, 'match', ARRAY['twegerane', 'kwasiteri', 'itagisi', '*nyonzi*', 'umugenzi', 'abagenzi']),
    ('mobility', 'rw', 3, 'match', ARRAY['gutega moto', 'ngwino unfate', 'imodoka yo gukodesha']),
    ('mobility', 'sw', 2, 'match', ARRAY['bajaji', 'daladala', 'abiria', 'stendi', 'unichukue']),
    ('mobility', 'sw', 3, 'match', ARRAY['njoo unichukue', 'uwanja wa ndege', 'kiwanja cha ndege', 'kukodisha gari', 'gari la kukodisha']),
    ('profile', 'en', 2, 'match', ARRAY['username', 'logout']),
    ('profile', 'en', 3, 'match', ARRAY['user name', 'date of birth', 'log out', 'sign in', 'sign me up', 'create an account', 'opt out', 'remove my data', 'wrong name']),
    ('profile', 'fr', 2, 'match', ARRAY['identifiant*', 'inscri*', 'desinscription', 'deconnexion', 'reglages']),
    ('profile', 'fr', 3, 'match', ARRAY['nom utilisateur', 'date de naissance', 'nom de famille', 'donnees personnelles', 'ne plus recevoir']),
    ('profile', 'rw', 2, 'match', ARRAY['*nyandikish*', 'imyirondoro', 'konte', 'igenamiterere', 'ijambobanga']),
    ('profile', 'rw', 3, 'match', ARRAY['ijambo banga', 'itariki y amavuko', 'nimero nshya', 'amakuru yange', 'guhagarika ubutumwa']),
    ('profile', 'sw', 2, 'match', ARRAY['nenosiri', 'mipangilio', 'usajili', 'nisajili', 'akunti']),
    ('profile', 'sw', 3, 'match', ARRAY['neno la siri', 'jina la mtumiaji', 'tarehe ya kuzaliwa', 'namba mpya', 'acha kunitumia']),
    ('insurance', 'en', 1, 'match', ARRAY['beneficiar*']),
    ('insurance', 'en', 2, 'match', ARRAY['rama', 'mmi', 'rssb', 'sonarwa', 'soras', 'sanlam', 'britam', 'policyholder*', 'deductible']),
    ('insurance', 'en', 3, 'match', ARRAY['cbhi', 'old mutual', 'yellow card', 'policy number', 'health cover', 'life cover', 'funeral cover', 'car accident']),
    ('insurance', 'fr', 1, 'match', ARRAY['prise en charge', 'frais medicaux', 'beneficiaire*']),
    ('insurance', 'fr', 2, 'match', ARRAY['cotisation*', 'souscri*', 'indemnite*', 'avenant']),
    ('insurance', 'fr', 3, 'match', ARRAY['mutuel', 'carte jaune', 'tous risques', 'responsabilite civile']),
    ('insurance', 'rw', 1, 'match', ARRAY['umusanzu', 'kwivuza']),
    ('insurance', 'rw', 3, 'match', ARRAY['*isungane*', 'mituel', 'impanuka y imodoka']),
    ('insurance', 'sw', 1, 'match', ARRAY['madai', 'kudai', 'matibabu', 'mnufaika']),
    ('insurance', 'sw', 2, 'match', ARRAY['nhif']),
    ('insurance', 'sw', 3, 'match', ARRAY['ajali ya gari']),
    ('ai_agents', 'en', 1, 'match', ARRAY['gemini']),
    ('ai_agents', 'en', 2, 'match', ARRAY['rewrite', 'paraphrase', 'rephrase', 'essay*', 'grammar', 'definition', 'summary']),
    ('ai_agents', 'en', 3, 'match', ARRAY['openai', 'meaning of', 'into english', 'into kinyarwanda']),
    ('ai_agents', 'fr', 1, 'match', ARRAY['veut dire', 'signifie']),
    ('ai_agents', 'fr', 2, 'match', ARRAY['tradui*', 'explication*', 'reformule*', 'resumer', 'redaction', 'dissertation']),
    ('ai_agents', 'fr', 3, 'match', ARRAY['corrige ce texte']),
    ('ai_agents', 'rw', 1, 'match', ARRAY['igisigo', 'indirimbo', 'urwenya', 'ibisakuzo', 'igitekerezo']),
    ('ai_agents', 'rw', 2, 'match', ARRAY['*sobanur*', '*nyigish*', '*andikir*', 'umukoro']),
    ('ai_agents', 'sw', 1, 'match', ARRAY['shairi', 'kitendawili']),
    ('ai_agents', 'sw', 2, 'match', ARRAY['*andikie*', 'muhtasari', 'fupisha', 'fafanua', 'ufafanuzi', 'nifundishe', 'sarufi']),
    ('ai_agents', 'sw', 3, 'match', ARRAY['ina maana gani']),
    ('property', 'sw', 2, 'match', ARRAY['makazi']),
    ('jobs', 'sw', NULL, 'exclude', ARRAY['makazi']),
    ('property', 'rw', NULL, 'exclude', ARRAY['imodoka yo gukodesha']),
    ('property', 'sw', NULL, 'exclude', ARRAY['kiwanja cha ndege', 'kukodisha gari', 'gari la kukodisha']),
    -- Exclusions: a mention that is not the domain, where it stands.
    ('ai_agents', 'en', NULL, 'exclude', ARRAY['momo agent', 'mobile money agent', 'insurance agent',
        'real estate agent', 'estate agent', 'property agent', 'travel agent', 'customer care agent',
        'sales agent', 'write a cv', 'write my cv', 'hiring agents']),
    ('ai_agents', 'fr', NULL, 'exclude', ARRAY['agent immobilier', 'agent d''assurance', 'agent momo',
        'agent de securite']),
    ('jobs', 'fr', NULL, 'exclude', ARRAY['un resume', 'resume de', 'fais moi un resume']),
    ('insurance', 'en', NULL, 'exclude', ARRAY['return policy', 'refund policy', 'privacy policy',
        'exchange policy', 'delivery policy', 'cover letter']),
    ('property', 'en', NULL, 'exclude', ARRAY['house help', 'house girl', 'house boy', 'rent a car',
        'car rental', 'rental car', 'car hire']),
    ('property', 'fr', NULL, 'exclude', ARRAY['location de voiture', 'louer une voiture', 'voiture de location']),
    ('property', 'rw', NULL, 'exclude', ARRAY['gukodesha imodoka']),
    ('property', 'sw', NULL, 'exclude', ARRAY['kukodi gari', 'gari la kukodi']),
    ('mobility', 'en', NULL, 'exclude', ARRAY['driver job', 'driving job', 'job as a driver', 'car insurance',
        'motor insurance', 'moto insurance', 'sell my car', 'sell my motorbike', 'sell my moto', 'buy a car',
        'buy a motorbike', 'car for sale', 'motorbike for sale', 'moto for sale', 'used car']),
    ('mobility', 'fr', NULL, 'exclude', ARRAY['assurance moto', 'assurance voiture', 'vendre ma moto',
        'vendre ma voiture', 'acheter une voiture', 'acheter une moto', 'voiture a vendre', 'moto a vendre']),
    ('mobility', 'rw', NULL, 'exclude', ARRAY['akazi ko gutwara', 'gukora nk umushoferi', 'kugurisha moto', 'kugurisha imodoka', 'kugura imodoka', 'kugura moto',
        'imodoka yo kugura', 'moto yo kugura']),
    ('mobility', 'sw', NULL, 'exclude', ARRAY['bima ya gari', 'kuuza gari', 'kununua gari', 'kuuza pikipiki',
        'kununua pikipiki', 'gari la kuuza']),
    ('marketplace', 'en', NULL, 'exclude', ARRAY['phone number', 'my phone']),
    ('marketplace', 'fr', NULL, 'exclude', ARRAY['numero de telephone']),
    ('marketplace', 'rw', NULL, 'exclude', ARRAY['nimero ya telefone', 'nomero ya telefone', 'yanjye ya telefone']),
    ('marketplace', 'sw', NULL, 'exclude', ARRAY['namba ya simu', 'yangu ya simu', 'nambari ya simu'])
) AS k(domain, language, weight, effect, patterns), pg_catalog.unnest(k.patterns) AS pattern
ON CONFLICT (match_kind, pattern, domain) DO NOTHING;

UPDATE @extschema@.webhook_routing_rules AS r SET enabled = false
FROM pg_temp.webhook_routing_disabled_seeds AS d
WHERE r.seeded AND r.match_kind OPERATOR(pg_catalog.=) 'keyword'
  AND r.pattern OPERATOR(pg_catalog.=) d.pattern AND r.domain OPERATOR(pg_catalog.=) d.domain;
DROP TABLE pg_temp.webhook_routing_disabled_seeds;

-- Privileges as a fresh install has them, whatever version this update ends at: nothing for
-- PUBLIC, nor for anyone default privileges gave something to while an update created
-- objects (Supabase grants every new function and table in public to anon, authenticated and
-- service_role); the extension's own roles keep what its scripts granted them. (Added in
-- 0.7.0 to every update script, released ones too, as PostgreSQL did to its contrib scripts
-- for CVE-2022-2625: an update to any version a user can name ends here.)
DO $$
DECLARE
    obj record;
    grantee text;
BEGIN
    FOR obj IN
        SELECT 'FUNCTION' AS kind, p.oid::pg_catalog.regprocedure::pg_catalog.text AS name,
               p.proacl AS acl, p.proowner AS owner
        FROM pg_catalog.pg_depend d
        JOIN pg_catalog.pg_extension e
          ON e.oid OPERATOR(pg_catalog.=) d.refobjid AND e.extname OPERATOR(pg_catalog.=) 'webhook_routing'
        JOIN pg_catalog.pg_proc p
          ON p.oid OPERATOR(pg_catalog.=) d.objid
         AND d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_proc'::pg_catalog.regclass
        WHERE d.deptype OPERATOR(pg_catalog.=) 'e'
        UNION ALL
        SELECT CASE WHEN c.relkind OPERATOR(pg_catalog.=) 'S' THEN 'SEQUENCE' ELSE 'TABLE' END,
               c.oid::pg_catalog.regclass::pg_catalog.text, c.relacl, c.relowner
        FROM pg_catalog.pg_class c
        WHERE c.relkind OPERATOR(pg_catalog.=) ANY (ARRAY['r', 'p', 'v', 'S']::pg_catalog."char"[])
          AND (c.oid OPERATOR(pg_catalog.=) ANY (ARRAY(
                   SELECT d.objid FROM pg_catalog.pg_depend d
                   JOIN pg_catalog.pg_extension e
                     ON e.oid OPERATOR(pg_catalog.=) d.refobjid AND e.extname OPERATOR(pg_catalog.=) 'webhook_routing'
                   WHERE d.deptype OPERATOR(pg_catalog.=) 'e'
                     AND d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass))
               OR c.oid OPERATOR(pg_catalog.=) ANY (ARRAY(
                   SELECT d.objid FROM pg_catalog.pg_depend d
                   JOIN pg_catalog.pg_depend t
                     ON t.objid OPERATOR(pg_catalog.=) d.refobjid AND t.deptype OPERATOR(pg_catalog.=) 'e'
                   JOIN pg_catalog.pg_extension e
                     ON e.oid OPERATOR(pg_catalog.=) t.refobjid AND e.extname OPERATOR(pg_catalog.=) 'webhook_routing'
                   WHERE d.deptype OPERATOR(pg_catalog.=) 'i'
                     AND d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass)))
    LOOP
        EXECUTE pg_catalog.format('REVOKE ALL ON %s %s FROM PUBLIC', obj.kind, obj.name);
        FOR grantee IN
            SELECT DISTINCT a.grantee::pg_catalog.regrole::pg_catalog.text
            FROM pg_catalog.aclexplode(obj.acl) AS a
            WHERE a.grantee OPERATOR(pg_catalog.<>) 0::pg_catalog.oid
              AND a.grantee OPERATOR(pg_catalog.<>) obj.owner
              AND NOT (a.grantee::pg_catalog.regrole::pg_catalog.text OPERATOR(pg_catalog.=) ANY
                       (ARRAY['webhook_routing_admin', 'webhook_routing_caller', 'webhook_routing_reader']))
        LOOP
            EXECUTE pg_catalog.format('REVOKE ALL ON %s %s FROM %s', obj.kind, obj.name, grantee);
        END LOOP;
    END LOOP;
END $$;

-- Detection as an operator sees it: explain_route says which rules matched a message, in
-- which field, for how many points, each domain's score and the decision; a rule added
-- disabled can be tried before it is enabled; the seeds can be read by language.
CREATE EXTENSION webhook_routing;

-- A message in each language; a mention that is not the intent; a passing mention.
CREATE TEMP TABLE said (n int, body text);
INSERT INTO said VALUES
    (1, 'Ndashaka akazi ko gutwara moto'),
    (2, 'Je cherche un appartement à louer à Kimihurura'),
    (3, 'natafuta kazi ya usafi'),
    (4, 'I want to rent a car for the weekend'),
    (5, 'my number is 0788123456, I want the house'),
    (6, 'Muraho!'),
    (7, 'what is your return policy on shoes?');
CREATE FUNCTION text_message(body text) RETURNS jsonb LANGUAGE sql AS $$
    SELECT jsonb_build_object('entry', jsonb_build_array(jsonb_build_object('changes', jsonb_build_array(
        jsonb_build_object('value', jsonb_build_object('messages', jsonb_build_array(
            jsonb_build_object('from', '250788000001', 'id', 'wamid.x', 'type', 'text',
                               'text', jsonb_build_object('body', body)))))))))
$$;
SELECT n, body, d.domain, d.reason
FROM said, LATERAL route_decision(text_message(body), log => false) AS d ORDER BY n;

-- Why: every match with its points and fate, the scores, the decision.
SELECT step, domain, points, pattern, effect, field, matched, note
FROM explain_route(text_message('Ndashaka akazi ko gutwara moto'));
SELECT step, domain, points, pattern, effect, field, matched, note
FROM explain_route(text_message('I want to rent a car for the weekend'));
SELECT step, domain, points, pattern, matched, note
FROM explain_route(text_message('my number is 0788123456, I want the house'));
-- Nothing matched; not a webhook; no user message.
SELECT step, domain, note FROM explain_route(text_message('Muraho!'));
SELECT step, domain, note FROM explain_route('[1, 2]');
SELECT step, domain, note FROM explain_route(NULL);
SELECT step, domain, note FROM explain_route('{"entry": [{"changes": [{"value": {"statuses": [{"status": "read"}]}}]}]}');

-- Fields: a list row's description weighs half its title; a document's file name and the ad a
-- user clicked are read.
SELECT step, domain, points, field, matched FROM explain_route(
    '{"entry": [{"changes": [{"value": {"messages": [{"from": "1", "type": "interactive",
      "interactive": {"type": "list_reply", "list_reply": {"id": "row_2", "title": "Apartments",
                      "description": "Furnished, two minutes from the bus stop"}}}]}}]}]}');
SELECT step, domain, points, field, matched FROM explain_route(
    '{"entry": [{"changes": [{"value": {"messages": [{"from": "1", "type": "document",
      "document": {"filename": "CV_Aline_Uwase.pdf", "mime_type": "application/pdf"}}]}}]}]}');
SELECT step, domain, points, field, matched FROM explain_route(
    '{"entry": [{"changes": [{"value": {"messages": [{"from": "1", "type": "text", "text": {"body": "Hi, I saw this"},
      "referral": {"source_type": "ad", "headline": "Moto insurance in 5 minutes", "body": "Pay with MoMo"}}]}}]}]}');

-- An operator tries a rule before enabling it: added disabled, it changes nothing until asked.
INSERT INTO webhook_routing_rules (domain, match_kind, pattern, language, enabled, note)
VALUES ('marketplace', 'keyword', 'isombe', 'rw', false, 'cassava leaves, sold at the market');
SELECT step, domain, note FROM explain_route(text_message('mufite isombe?')) WHERE step = 'decision';
SELECT step, domain, enabled, pattern, note FROM explain_route(text_message('mufite isombe?'), include_disabled => true);
UPDATE webhook_routing_rules SET enabled = true WHERE pattern = 'isombe';
SELECT d.domain, d.reason FROM route_decision(text_message('mufite isombe?'), log => false) AS d;

-- An exclusion: "momo agent" is not the AI agents domain, there; elsewhere "agent" still is.
SELECT step, domain, pattern, matched, note
FROM explain_route(text_message('the momo agent told me to ask your AI agent'));

-- Ids are read as words too (0.7.0): a template payload or a list id with no seeded prefix
-- names its domain by its words, split at _ - . and case changes; a Flow's token likewise.
SELECT step, domain, points, pattern, field, matched, note FROM explain_route(
    '{"entry": [{"changes": [{"value": {"messages": [{"from": "1", "type": "button",
      "button": {"payload": "vacancyAlert_view", "text": "See it"}}]}}]}]}');
SELECT step, domain, points, pattern, field, matched, note FROM explain_route(
    '{"entry": [{"changes": [{"value": {"messages": [{"from": "1", "type": "interactive",
      "interactive": {"type": "nfm_reply", "nfm_reply": {"name": "flow",
        "response_json": "{\"flow_token\": \"motorInsuranceQuote-2\", \"plate\": \"RAD 1\"}"}}}]}}]}]}');
-- Asking counts as a word of intent: "do you have …", "can I …", "and … ?" at a text's start.
SELECT step, domain, points, pattern, matched, note
FROM explain_route(text_message('and do you have rooms for rent near the university?'));
-- Signing up as a role is about the role, not the profile.
SELECT step, domain, points, pattern, matched, note
FROM explain_route(text_message('I want to sign up as a taxi driver'));
-- A question that names no domain is the assistant's, weakly; a greeting that asks is none.
SELECT t, (SELECT domain FROM route_decision(text_message(t), log => false)) AS domain
FROM unnest(ARRAY['why do onions make us cry?', 'kuki amazi abira?', 'how are you?',
                  'which house is cheaper, the one in Remera?']) AS t ORDER BY t;

-- Asking the assistant for an explanation or for something written: the routable domains'
-- words after the ask are what it is about (excluded by the ask's rule); a protected
-- domain's stay.
SELECT step, domain, points, pattern, matched, note
FROM explain_route(text_message('what is the difference between a CV and a cover letter?'));
SELECT t, (SELECT domain FROM route_decision(text_message(t), log => false)) AS domain
FROM unnest(ARRAY['write me a cover letter for a nursing job', 'nsobanurira itandukaniro ry''inzu n''ikibanza',
                  'explain to me why my insurance claim was refused']) AS t ORDER BY t;
-- A turn alone ("and …", "et …") requests, but is only a question's follow-up in the
-- assistant's conversation; asking whether the service has something requests anywhere.
SELECT step, domain, note FROM explain_route(text_message('et le transport des invités ?')) WHERE step = 'decision';
SELECT step, domain, note FROM explain_route(text_message('thanks. do you have any receptionist jobs?')) WHERE step = 'decision';

-- The seeds by language and domain.
SELECT language, count(*) AS rules, count(DISTINCT domain) AS domains
FROM webhook_routing_rules WHERE seeded AND match_kind = 'keyword' GROUP BY language ORDER BY language;
SELECT domain, effect, count(*) FROM webhook_routing_rules WHERE seeded AND language = 'rw'
GROUP BY domain, effect ORDER BY domain, effect;

DROP FUNCTION text_message(text);
DROP EXTENSION webhook_routing;

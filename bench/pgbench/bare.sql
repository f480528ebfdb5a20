SELECT :payload::jsonb IS NOT NULL;

// WhatsApp Cloud API webhook bodies made from the fixtures' short form: one message object per
// kind of message a user sends, and the body that carries them. Shared by the client tests,
// tests/detection and tests/conversations.

// The message object WhatsApp sends for `item` (kind text, image, document, button, list,
// referral, order, location, audio, sticker, reaction, template_button), from `from`, with id `id`.
export function messageOf(item, from, id) {
  const base = { from, id, timestamp: '1764763200' };
  switch (item.kind) {
    case 'text':
      return { ...base, type: 'text', text: { body: item.text } };
    case 'image':
      return { ...base, type: 'image', image: { id: `media.${id}`, mime_type: 'image/jpeg', ...(item.caption ? { caption: item.caption } : {}) } };
    case 'document':
      return { ...base, type: 'document',
               document: { id: `media.${id}`, mime_type: 'application/pdf', filename: item.filename,
                           ...(item.caption ? { caption: item.caption } : {}) } };
    case 'button':
      return { ...base, type: 'interactive',
               interactive: { type: 'button_reply', button_reply: { id: item.id ?? 'btn_1', title: item.title } } };
    case 'list':
      return { ...base, type: 'interactive',
               interactive: { type: 'list_reply',
                              list_reply: { id: item.id ?? 'row_1', title: item.title,
                                            ...(item.description ? { description: item.description } : {}) } } };
    case 'referral':
      return { ...base, type: 'text', text: { body: item.text },
               referral: { source_url: 'https://fb.me/ad', source_type: 'ad', source_id: `ad.${id}`,
                           headline: item.headline, body: item.body, media_type: 'image' } };
    case 'order':
      return { ...base, type: 'order',
               order: { catalog_id: 'cat1', ...(item.text ? { text: item.text } : {}),
                        product_items: [{ product_retailer_id: 'sku1', quantity: 1, item_price: 5000, currency: 'RWF' }] } };
    case 'location':
      return { ...base, type: 'location',
               location: { latitude: item.latitude, longitude: item.longitude, ...(item.name ? { name: item.name } : {}) } };
    case 'audio':
      return { ...base, type: 'audio', audio: { id: `media.${id}`, mime_type: 'audio/ogg; codecs=opus', voice: true } };
    case 'sticker':
      return { ...base, type: 'sticker', sticker: { id: `media.${id}`, mime_type: 'image/webp', animated: false } };
    case 'reaction':
      return { ...base, type: 'reaction', reaction: { message_id: 'wamid.bot', emoji: item.emoji } };
    case 'flow':
      return { ...base, type: 'interactive',
               interactive: { type: 'nfm_reply',
                              nfm_reply: { name: 'flow', body: 'Sent', response_json: JSON.stringify(item.response) } } };
    case 'template_button':
      return { ...base, type: 'button', button: { payload: item.payload, text: item.text } };
    default:
      throw new Error(`unknown kind of message: ${item.kind}`);
  }
}

// A webhook body carrying `messages` (from one contact or several, as WhatsApp batches them),
// and `statuses` if given.
export function bodyOf(messages, statuses = []) {
  const senders = [...new Set(messages.map((m) => m.from))];
  return {
    object: 'whatsapp_business_account',
    entry: [{ id: '1', changes: [{ field: 'messages', value: {
      messaging_product: 'whatsapp',
      metadata: { display_phone_number: '250788000111', phone_number_id: '1' },
      ...(senders.length ? { contacts: senders.map((s) => ({ profile: { name: 'User' }, wa_id: s })) } : {}),
      ...(messages.length ? { messages } : {}),
      ...(statuses.length ? { statuses } : {}),
    } }] }],
  };
}

// The delivery status WhatsApp sends for one of the business's own messages to `recipient`.
export function statusOf(recipient, id, status = 'delivered') {
  return { id, status, timestamp: '1764763260', recipient_id: recipient };
}

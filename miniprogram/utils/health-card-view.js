/** What an electronic health card shows: the patient's masked details and a masked card number. */
const { relationLabel } = require('./labels');

/** "5B3A****9F21" of a long card id; short ids are masked all but the last 4. */
function maskCardId(id) {
  const text = String(id || '');
  if (text.length > 8) return `${text.slice(0, 4)}****${text.slice(-4)}`;
  return text.length > 4 ? `****${text.slice(-4)}` : text;
}

/** Display fields of a card from the API ({id, patient_id, health_card_id, status, patient}). */
function describeCard(card) {
  const patient = card.patient || {};
  return {
    id: card.id,
    patientId: card.patient_id,
    status: card.status || '',
    cardNoText: maskCardId(card.health_card_id),
    name: patient.name || '',
    relationText: patient.relation ? relationLabel(patient.relation) : '',
    idText: patient.id_number_masked || '',
    phoneText: patient.phone_masked || '',
  };
}

module.exports = { describeCard, maskCardId };

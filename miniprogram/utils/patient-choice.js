/**
 * The patients to pick from where a patient is chosen (booking, fees): each marked when it has an
 * 电子健康卡, and the one to preselect — the default patient, else the first with a card, else the first.
 */
const { listPatients } = require('../services/patients');
const { listHealthCards } = require('../services/healthcards');
const { relationLabel } = require('./labels');

/** Cards are a convenience here: without them (server or network trouble) the choice still works. */
function cardsOrNone() {
  return listHealthCards().catch(() => []);
}

/** The patient to preselect among choices, keeping currentId when it is still there. */
function preferredPatientId(choices, currentId) {
  if (choices.some((p) => String(p.id) === String(currentId))) return currentId;
  const preferred = choices.find((p) => p.isDefault) || choices.find((p) => p.hasCard) || choices[0];
  return preferred ? preferred.id : '';
}

/** Resolves [{id, name, relationText, idText, isDefault, hasCard}] (rejects when the patients cannot be read). */
async function loadPatientChoices() {
  const [patients, cards] = await Promise.all([listPatients(), cardsOrNone()]);
  const withCard = new Set(cards.map((c) => String(c.patient_id)));
  return patients.map((p) => ({
    id: p.id,
    name: p.name,
    relationText: relationLabel(p.relation),
    idText: p.id_number_masked,
    isDefault: !!p.is_default,
    hasCard: withCard.has(String(p.id)),
  }));
}

module.exports = { loadPatientChoices, preferredPatientId };

/**
 * 门诊缴费: pick the patient, see the pending bills (all chosen, items folded), pay the chosen
 * ones together: a settlement order (Idempotency-Key), then WeChat Pay, then the receipt page.
 * A payment not made keeps the order for another try until it expires.
 */
const { listBills, createSettlement } = require('../../../services/billing');
const { applyElderMode } = require('../../../utils/elder');
const { createKeyKeeper } = require('../../../utils/idempotency');
const { loadPatientChoices, preferredPatientId } = require('../../../utils/patient-choice');
const { describeBill, totalsOf } = require('../../../utils/bill-view');
const { payOrder } = require('../../../utils/pay-flow');
const { messageOf, outcomeUnknown } = require('../../../utils/errors');

// The order is dropped and the list read again: the bills or the order changed at the hospital.
const REFRESH_AFTER = ['BILL_NOT_PENDING', 'SETTLEMENT_EXPIRED', 'ORDER_NOT_PAYABLE', 'SETTLEMENT_NOT_FOUND'];
const UNPAID_MESSAGES = {
  cancelled: '您已取消支付，费用仍待缴纳，可重新支付',
  failed: '支付未成功，请重试',
};
const ORDER_SPARE_MS = 30000; // do not start paying an order about to expire

Page({
  data: {
    patients: [],
    selectedPatientId: '',
    bills: [],
    chosenCount: 0,
    allChecked: false,
    totalText: '¥0.00',
    loading: true,
    billsLoading: false,
    errorMessage: '',
    billsError: '',
    payMessage: '',
    paying: false,
    elderClass: '',
  },

  onLoad() {
    this.settlementKeys = createKeyKeeper();
    this.paymentKeys = createKeyKeeper();
    this.settlement = null;
  },

  onShow() {
    applyElderMode(this);
    return this.data.patients.length ? this.loadBills() : this.loadPatients();
  },

  async loadPatients() {
    this.setData({ loading: true, errorMessage: '' });
    try {
      const patients = await loadPatientChoices();
      this.setData({ patients, loading: false, selectedPatientId: preferredPatientId(patients, this.data.selectedPatientId) });
      if (this.data.selectedPatientId) await this.loadBills();
    } catch (err) {
      this.setData({ loading: false, errorMessage: messageOf(err) });
    }
  },

  onSelectPatient(e) {
    const { id } = e.currentTarget.dataset;
    if (String(id) === String(this.data.selectedPatientId)) return undefined;
    this.settlement = null;
    this.setData({ selectedPatientId: id, bills: [], payMessage: '' });
    return this.loadBills();
  },

  goAddPatient() {
    wx.navigateTo({ url: '/pages/patients/add/index' });
  },

  /** Reads the bills again; ones seen before keep their tick, new ones come chosen. */
  async loadBills() {
    const patientId = this.data.selectedPatientId;
    if (!patientId) return;
    this.setData({ billsLoading: true, billsError: '' });
    try {
      const items = await listBills(patientId);
      if (String(patientId) !== String(this.data.selectedPatientId)) return; // another patient was chosen meanwhile
      const before = new Map(this.data.bills.map((b) => [b.id, b.checked]));
      const bills = items.map((b) => describeBill(b, before.has(b.id) ? before.get(b.id) : true));
      this.setData(Object.assign({ bills, billsLoading: false }, totalsOf(bills)));
    } catch (err) {
      this.setData({ billsLoading: false, billsError: messageOf(err) });
    }
  },

  onToggleBill(e) {
    const bills = this.data.bills.map((b) => (b.id === e.currentTarget.dataset.id ? Object.assign({}, b, { checked: !b.checked }) : b));
    this.setData(Object.assign({ bills, payMessage: '' }, totalsOf(bills)));
  },

  onToggleAll() {
    const checked = !this.data.allChecked;
    const bills = this.data.bills.map((b) => Object.assign({}, b, { checked }));
    this.setData(Object.assign({ bills, payMessage: '' }, totalsOf(bills)));
  },

  onExpandBill(e) {
    const index = this.data.bills.findIndex((b) => b.id === e.currentTarget.dataset.id);
    if (index >= 0) this.setData({ [`bills[${index}].expanded`]: !this.data.bills[index].expanded });
  },

  /** The order for these bills: the one made for the same choice if still payable, else a new one. */
  async settlementFor(patientId, billIds) {
    const body = { patientId, billIds };
    const print = JSON.stringify(body);
    const kept = this.settlement;
    if (kept && this.settlementPrint === print && Date.parse(kept.expires_at) - Date.now() > ORDER_SPARE_MS) return kept;
    try {
      const order = await createSettlement(body, this.settlementKeys.keyFor(body));
      this.settlementKeys.done();
      this.settlement = order;
      this.settlementPrint = print;
      return order;
    } catch (err) {
      if (!outcomeUnknown(err)) this.settlementKeys.done();
      throw err;
    }
  },

  async onPay() {
    if (this.data.paying) return;
    const billIds = this.data.bills.filter((b) => b.checked).map((b) => b.id);
    if (!billIds.length) {
      this.setData({ payMessage: '请先选择要缴纳的费用' });
      return;
    }
    this.setData({ paying: true, payMessage: '' });
    try {
      const order = await this.settlementFor(this.data.selectedPatientId, billIds);
      // The receipt page follows the order itself (paid → settled), so no payment polling here.
      const paid = await payOrder({ orderType: 'bills', orderId: order.id }, this.paymentKeys, { waitForPaid: false });
      this.setData({ paying: false });
      if (paid.outcome === 'paid' || paid.outcome === 'confirming') {
        this.settlement = null;
        wx.navigateTo({ url: `/pages/billing/result/index?id=${encodeURIComponent(order.id)}` });
        return;
      }
      this.setData({ payMessage: UNPAID_MESSAGES[paid.outcome] || UNPAID_MESSAGES.failed });
    } catch (err) {
      this.setData({ paying: false, payMessage: messageOf(err) });
      if (REFRESH_AFTER.includes(err.code)) {
        this.settlement = null;
        await this.loadBills();
      }
    }
  },
});

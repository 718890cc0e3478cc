"""门诊缴费: a patient's pending outpatient fees from the HIS, settled by one payment."""

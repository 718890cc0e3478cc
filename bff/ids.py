"""Id fields every domain's schemas share: our integer keys and the HIS's printable text ids."""
from bff.validation import FullMatch

# HIS ids are printable text; control characters could not even travel in the HIS's XML.
HIS_ID_PATTERN = r"^[^\x00-\x1f\x7f]{1,64}$"
HIS_ID = FullMatch(HIS_ID_PATTERN, error="编号格式无效")
MAX_ID = 2**31 - 1  # our integer keys

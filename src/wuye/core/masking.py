"""Masking of phone and ID numbers for roles that do not need them (SPEC §1, LAW.md §2)."""


def mask_phone(number: str) -> str:
    """``13812341234`` → ``138****1234``; short numbers keep only their last two digits."""
    if not number:
        return ""
    if len(number) >= 7:
        return number[:3] + "****" + number[-4:]
    return "*" * (len(number) - 2) + number[-2:]


def mask_id_number(number: str) -> str:
    """``110101199001011234`` → ``110101********1234``."""
    if not number:
        return ""
    if len(number) > 10:
        return number[:6] + "*" * (len(number) - 10) + number[-4:]
    return "*" * (len(number) - 2) + number[-2:]

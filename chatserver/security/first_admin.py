"""Where the generated password of the first admin account goes: a file only the server's user can read, never
stdout (which service managers keep in their logs). The path is printed instead."""
from __future__ import annotations

from pathlib import Path

from .private_files import write_private_text

PASSWORD_FILE = "admin-password.txt"


def record_generated_password(data_dir: Path, email: str, password: str) -> Path:
    """Write the generated password to <data dir>/admin-password.txt (mode 0600) and print where it is."""
    path = Path(data_dir) / PASSWORD_FILE
    write_private_text(path, f"{email}\n{password}\n")
    print(f"Created admin account {email}; its generated password is in {path.resolve()}\n"
          f"(readable by this user only; sign in, change it under Account, then delete the file. "
          f"Set CHAT_ADMIN_PASSWORD to choose it instead)", flush=True)
    return path

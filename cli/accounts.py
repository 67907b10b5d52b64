"""Manage staff accounts from the command line.

python -m cli.accounts create-user --username ada --role admin   (asks for the password, or reads --password-env)
python -m cli.accounts set-password --username ada               (a forgotten password; signs the account out everywhere)
python -m cli.accounts list
"""
from __future__ import annotations

import argparse
import getpass
import os
import sys

from db.accounts import ROLES, AccountError, create_user, list_accounts, set_password


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m cli.accounts", description="Manage teacher and admin accounts.")
    sub = p.add_subparsers(dest="command", required=True)
    create = sub.add_parser("create-user", help="create a teacher or admin account")
    create.add_argument("--username", required=True)
    create.add_argument("--role", choices=ROLES, default="teacher")
    create.add_argument("--password-env", help="read the password from this environment variable instead of a prompt")
    reset = sub.add_parser("set-password", help="give an account a new password (forgotten); signs it out everywhere")
    reset.add_argument("--username", required=True)
    reset.add_argument("--password-env", help="read the password from this environment variable instead of a prompt")
    sub.add_parser("list", help="list accounts")
    p.add_argument("--db", default=None, help="SQLAlchemy URL (default: ENGAGE_DATABASE_URL or the SQLite default)")
    args = p.parse_args(argv)
    from db.session import open_database
    from db.staff_sessions import revoke_all
    from settings import Settings

    _engine, sessions = open_database(args.db or Settings.from_env().resolved_database_url)
    try:
        if args.command == "list":
            with sessions() as s:
                for account in list_accounts(s):
                    print(f"{account.username}\t{account.role}")
            return 0
        password = os.environ.get(args.password_env, "") if args.password_env else getpass.getpass("Password: ")
        username = args.username.strip().lower()
        with sessions.begin() as s:
            if args.command == "set-password":
                set_password(s, username, password)
                ended = revoke_all(s, username)
            else:
                create_user(s, username, password, args.role)
    except AccountError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"new password set for {username}; {ended} signed-in browser(s) signed out" if args.command == "set-password"
          else f"created {args.role} {username}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Who is signed in to the dashboards: kept in Streamlit's session state, never in the URL."""

import streamlit as st

from dashboards.api import ApiError, SignedIn, sign_in

KEY = "learnlake_user"


def current_user() -> SignedIn | None:
    return st.session_state.get(KEY)


def sign_out() -> None:
    st.session_state.pop(KEY, None)


def sign_in_form() -> None:
    """The sign-in page: the core API's accounts, checked by the API."""
    st.title("Sign in to LearnLake")
    with st.form("sign-in"):
        email = st.text_input("E-mail")
        password = st.text_input("Password", type="password")
        submitted = st.form_submit_button("Sign in")
    if submitted:
        try:
            st.session_state[KEY] = sign_in(email, password)
        except ApiError as exc:
            st.error(f"Could not sign in: {exc.detail}")
            return
        st.rerun()

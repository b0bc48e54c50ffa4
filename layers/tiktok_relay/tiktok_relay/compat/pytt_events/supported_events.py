"""pytt-events-api's `SupportedEvents`: the 14 event names it accepted. tiktok_relay's `Event`
takes these, the current standard names (Purchase, Lead, ...) and custom names alike."""

from __future__ import annotations

from enum import Enum


class SupportedEvents(str, Enum):
    VIEW_CONTENT = "ViewContent"
    CLICK_BUTTON = "ClickButton"
    SEARCH = "Search"
    ADD_TO_WISHLIST = "AddToWishlist"
    ADD_TO_CART = "AddToCart"
    INITIATE_CHECKOUT = "InitiateCheckout"
    ADD_PAYMENT_INFO = "AddPaymentInfo"
    COMPLETE_PAYMENT = "CompletePayment"
    PLACE_AN_ORDER = "PlaceAnOrder"
    CONTACT = "Contact"
    DOWNLOAD = "Download"
    SUBMIT_FORM = "SubmitForm"
    COMPLETE_REGISTRATION = "CompleteRegistration"
    SUBSCRIBE = "Subscribe"

    def __str__(self) -> str:
        return self.value

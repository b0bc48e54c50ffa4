<?php
/**
 * Plugin Name: tiktok-relay attribution
 * Description: Saves TikTok's click id (ttclid) and the TikTok pixel's browser cookie (_ttp) into each order's meta at checkout, where tiktok-relay's server-side Purchase reads them (meta keys _ttclid and _ttp).
 * Version: 1.0.0
 * Requires PHP: 7.4
 * WC requires at least: 6.0
 *
 * Install: save as wp-content/plugins/tiktok-relay/tiktok-relay.php and activate it, or as
 * wp-content/mu-plugins/tiktok-relay.php (always on), or paste everything below the opening
 * tag into your theme's functions.php. It needs nothing else and stores nothing but the two values.
 *
 * - The ad's landing page carries ?ttclid=...; checkout rarely does. The first page that carries
 *   one keeps it in a first-party cookie (tiktok_relay_ttclid, 30 days, HttpOnly).
 * - _ttp is the cookie the TikTok pixel sets on your domain; this code only reads it.
 * - Both are saved when the order is created: by the classic checkout
 *   (woocommerce_checkout_create_order) and by the block checkout (the Store API,
 *   woocommerce_store_api_checkout_update_order_from_request).
 * - Only values that look like click ids (letters, digits and . _ - ~ + / =, at most 512) are kept:
 *   a URL with an email pasted into it stores nothing.
 */

defined( 'ABSPATH' ) || exit;

const TIKTOK_RELAY_TTCLID_COOKIE = 'tiktok_relay_ttclid';
const TIKTOK_RELAY_TTCLID_DAYS   = 30; // How long an ad click counts here: no less than the attribution windows TikTok offers (an assumption).

/** A click id as tiktok-relay accepts it, or '' (anything else is not stored). */
function tiktok_relay_click_id( $value ) {
	$value = is_string( $value ) ? trim( $value ) : '';
	return ( strlen( $value ) <= 512 && preg_match( '/^[A-Za-z0-9._~+\/=-]+$/', $value ) ) ? $value : '';
}

/** Keeps the landing page's ttclid until checkout. */
function tiktok_relay_remember_ttclid() {
	if ( is_admin() || ! isset( $_GET['ttclid'] ) ) { // phpcs:ignore WordPress.Security.NonceVerification
		return;
	}
	$ttclid = tiktok_relay_click_id( wp_unslash( $_GET['ttclid'] ) ); // phpcs:ignore WordPress.Security
	if ( '' === $ttclid || headers_sent() ) {
		return;
	}
	setcookie(
		TIKTOK_RELAY_TTCLID_COOKIE,
		$ttclid,
		array(
			'expires'  => time() + TIKTOK_RELAY_TTCLID_DAYS * DAY_IN_SECONDS,
			'path'     => COOKIEPATH ? COOKIEPATH : '/',
			'domain'   => COOKIE_DOMAIN,
			'secure'   => is_ssl(),
			'httponly' => true,
			'samesite' => 'Lax',
		)
	);
	$_COOKIE[ TIKTOK_RELAY_TTCLID_COOKIE ] = $ttclid;
}
add_action( 'init', 'tiktok_relay_remember_ttclid' );

/** Writes _ttclid and _ttp into the order's meta (the order is saved by the checkout after this). */
function tiktok_relay_save_click_ids( $order ) {
	if ( ! is_object( $order ) || ! method_exists( $order, 'update_meta_data' ) ) {
		return;
	}
	$sources = array(
		'_ttclid' => TIKTOK_RELAY_TTCLID_COOKIE,
		'_ttp'    => '_ttp',
	);
	foreach ( $sources as $meta_key => $cookie ) {
		$value = isset( $_COOKIE[ $cookie ] ) ? tiktok_relay_click_id( wp_unslash( $_COOKIE[ $cookie ] ) ) : '';
		if ( '' !== $value ) {
			$order->update_meta_data( $meta_key, $value );
		}
	}
}
add_action( 'woocommerce_checkout_create_order', 'tiktok_relay_save_click_ids' );
add_action( 'woocommerce_store_api_checkout_update_order_from_request', 'tiktok_relay_save_click_ids' );

<?php
/**
 * Plugin Name:       Loyalty Bridge
 * Description:       Shows the Loyalty Bridge rewards widget (points, rewards, referrals) on your shop and signs each logged-in customer's widget token.
 * Version:           0.1.0
 * Requires at least: 6.3
 * Requires PHP:      7.4
 * License:           AGPL-3.0-or-later
 * Text Domain:       loyalty-bridge
 *
 * The widget script is served by your bridge (GET <bridge>/widget/v1/loyalty-bridge.js). For a logged-in
 * customer this plugin signs a short-lived HS256 token {shop, sub: customer id, email, iat, exp} with the shop's
 * widget secret, exactly as `bridge widget-token` does; the secret never leaves the server. Guests get the
 * club's offer and a link to sign up.
 */

if (!defined('ABSPATH')) {
	exit;
}

const LOYALTY_BRIDGE_OPTION = 'loyalty_bridge_settings';
const LOYALTY_BRIDGE_TOKEN_TTL = 900; // 15 minutes; the widget asks admin-ajax for a new one when it expires

/** Settings with defaults: bridge URL, shop id, widget secret, and how the launcher looks. */
function loyalty_bridge_settings() {
	$saved = get_option(LOYALTY_BRIDGE_OPTION, array());
	return wp_parse_args(is_array($saved) ? $saved : array(), array(
		'bridge_url' => '',
		'shop_id'    => '',
		'secret'     => '',
		'position'   => 'bottom-right',
		'color'      => '',
		'label'      => '',
	));
}

function loyalty_bridge_base64url($data) {
	return rtrim(strtr(base64_encode($data), '+/', '-_'), '=');
}

/** An HS256 JWT the bridge accepts (bridge/web/widget_auth.py verifies it). */
function loyalty_bridge_sign_token($shop_id, $customer_id, $email, $secret, $ttl = LOYALTY_BRIDGE_TOKEN_TTL, $now = null) {
	$now     = null === $now ? time() : (int) $now;
	$header  = loyalty_bridge_base64url(wp_json_encode(array('alg' => 'HS256', 'typ' => 'JWT')));
	$claims  = array(
		'shop'  => (string) $shop_id,
		'sub'   => (string) $customer_id,
		'email' => (string) $email,
		'iat'   => $now,
		'exp'   => $now + min((int) $ttl, 3600), // the bridge refuses tokens that live more than an hour
	);
	$payload = loyalty_bridge_base64url(wp_json_encode($claims));
	$sig     = loyalty_bridge_base64url(hash_hmac('sha256', $header . '.' . $payload, $secret, true));
	return $header . '.' . $payload . '.' . $sig;
}

/** The token of the logged-in customer, or '' for a guest or an unconfigured plugin. */
function loyalty_bridge_current_token() {
	$s = loyalty_bridge_settings();
	if (!is_user_logged_in() || '' === $s['secret'] || '' === $s['shop_id']) {
		return '';
	}
	$user = wp_get_current_user();
	return loyalty_bridge_sign_token($s['shop_id'], $user->ID, $user->user_email, $s['secret']);
}

// -- the script tag --------------------------------------------------------------------------------------------
add_action('wp_enqueue_scripts', function () {
	$s = loyalty_bridge_settings();
	if ('' === $s['bridge_url'] || '' === $s['shop_id']) {
		return;
	}
	$src = untrailingslashit($s['bridge_url']) . '/widget/v1/loyalty-bridge.js';
	// Loaded async in the footer: it never delays the shop's own rendering.
	wp_enqueue_script('loyalty-bridge', $src, array(), null, array('in_footer' => true, 'strategy' => 'async'));
});

/** The widget reads its settings from data-* attributes on its own script tag (no inline script: CSP-safe). */
add_filter('script_loader_tag', function ($tag, $handle) {
	if ('loyalty-bridge' !== $handle) {
		return $tag;
	}
	$s     = loyalty_bridge_settings();
	$attrs = array(
		'data-bridge'      => untrailingslashit($s['bridge_url']),
		'data-shop'        => $s['shop_id'],
		'data-locale'      => get_locale() ? str_replace('_', '-', get_locale()) : '',
		'data-position'    => $s['position'],
		'data-color'       => $s['color'],
		'data-label'       => $s['label'],
		'data-signup-url'  => function_exists('wc_get_page_permalink') ? wc_get_page_permalink('myaccount') : wp_registration_url(),
		'data-login-url'   => wp_login_url(),
		'data-store-api'   => wp_make_link_relative(rest_url('wc/store/v1')),
		'data-store-nonce' => wp_create_nonce('wc_store_api'),
	);
	$token = loyalty_bridge_current_token();
	if ('' !== $token) {
		$attrs['data-token']     = $token;
		$attrs['data-token-url'] = admin_url('admin-ajax.php?action=loyalty_bridge_token');
	}
	$html = '';
	foreach ($attrs as $name => $value) {
		if ('' !== (string) $value) {
			$html .= ' ' . $name . '="' . esc_attr($value) . '"';
		}
	}
	return str_replace(' src=', $html . ' src=', $tag);
}, 10, 2);

// Pages holding a customer's token must never be served from a shared page cache to someone else.
add_action('send_headers', function () {
	if (is_user_logged_in()) {
		nocache_headers();
	}
});

/** A fresh token for a tab left open past the token's expiry (same-origin, the customer's own cookie). */
add_action('wp_ajax_loyalty_bridge_token', function () {
	nocache_headers();
	wp_send_json(array('token' => loyalty_bridge_current_token()));
});

// -- settings page ----------------------------------------------------------------------------------------------
add_action('admin_menu', function () {
	add_options_page('Loyalty Bridge', 'Loyalty Bridge', 'manage_options', 'loyalty-bridge', 'loyalty_bridge_settings_page');
});

add_action('admin_init', function () {
	register_setting('loyalty_bridge', LOYALTY_BRIDGE_OPTION, array(
		'type'              => 'array',
		'sanitize_callback' => 'loyalty_bridge_sanitize',
	));
});

function loyalty_bridge_sanitize($input) {
	$old = loyalty_bridge_settings();
	$in  = is_array($input) ? $input : array();
	$out = array(
		'bridge_url' => esc_url_raw(trim($in['bridge_url'] ?? '')),
		'shop_id'    => sanitize_key($in['shop_id'] ?? ''),
		// An empty field keeps the stored secret: the form never shows it back.
		'secret'     => '' !== trim($in['secret'] ?? '') ? trim($in['secret']) : $old['secret'],
		'position'   => in_array($in['position'] ?? '', array('bottom-right', 'bottom-left'), true) ? $in['position'] : 'bottom-right',
		'color'      => sanitize_hex_color($in['color'] ?? '') ?: '',
		'label'      => sanitize_text_field($in['label'] ?? ''),
	);
	if ('' !== $out['secret'] && strlen($out['secret']) < 32) {
		add_settings_error(LOYALTY_BRIDGE_OPTION, 'secret', 'The widget secret must be at least 32 characters (the bridge refuses shorter ones).');
		$out['secret'] = $old['secret'];
	}
	return $out;
}

function loyalty_bridge_settings_page() {
	if (!current_user_can('manage_options')) {
		return;
	}
	$s    = loyalty_bridge_settings();
	$name = LOYALTY_BRIDGE_OPTION;
	?>
	<div class="wrap">
		<h1>Loyalty Bridge</h1>
		<p>Copy these from your bridge's <code>config.yaml</code>: the shop's <code>id</code> and <code>widget_secret</code>. Add this site's address to the shop's <code>allowed_origins</code>.</p>
		<form method="post" action="options.php">
			<?php settings_fields('loyalty_bridge'); ?>
			<table class="form-table" role="presentation">
				<tr><th scope="row"><label for="lb-bridge">Bridge URL</label></th>
					<td><input id="lb-bridge" class="regular-text" type="url" name="<?php echo esc_attr($name); ?>[bridge_url]" value="<?php echo esc_attr($s['bridge_url']); ?>" placeholder="https://club.example.com"></td></tr>
				<tr><th scope="row"><label for="lb-shop">Shop id</label></th>
					<td><input id="lb-shop" type="text" name="<?php echo esc_attr($name); ?>[shop_id]" value="<?php echo esc_attr($s['shop_id']); ?>"></td></tr>
				<tr><th scope="row"><label for="lb-secret">Widget secret</label></th>
					<td><input id="lb-secret" class="regular-text" type="password" autocomplete="new-password" name="<?php echo esc_attr($name); ?>[secret]" value="" placeholder="<?php echo '' !== $s['secret'] ? esc_attr__('(saved; type to replace)', 'loyalty-bridge') : ''; ?>"></td></tr>
				<tr><th scope="row"><label for="lb-position">Launcher position</label></th>
					<td><select id="lb-position" name="<?php echo esc_attr($name); ?>[position]">
						<option value="bottom-right" <?php selected($s['position'], 'bottom-right'); ?>>Bottom right</option>
						<option value="bottom-left" <?php selected($s['position'], 'bottom-left'); ?>>Bottom left</option>
					</select></td></tr>
				<tr><th scope="row"><label for="lb-color">Launcher colour</label></th>
					<td><input id="lb-color" type="text" name="<?php echo esc_attr($name); ?>[color]" value="<?php echo esc_attr($s['color']); ?>" placeholder="#1d4f91"> <span class="description">Keep white text readable: a contrast of at least 4.5:1.</span></td></tr>
				<tr><th scope="row"><label for="lb-label">Launcher label</label></th>
					<td><input id="lb-label" type="text" name="<?php echo esc_attr($name); ?>[label]" value="<?php echo esc_attr($s['label']); ?>" placeholder="Rewards"></td></tr>
			</table>
			<?php submit_button(); ?>
		</form>
	</div>
	<?php
}

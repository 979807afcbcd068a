//! Updates that are no commands: a forward, an edit, a channel
//! post or a message sent on behalf of a chat carries a senior's command
//! (or Telegram's stand-in for one) and is no command. Each is ignored:
//! nothing created, nothing answered, nothing audited (anyone who can post
//! could otherwise fill the audit log), and the bot still answers.

use std::time::Duration;

use super::snapshot;
use crate::support::*;

/// A channel whose posts land in the chat (its discussion group).
const LINKED_CHANNEL: i64 = -1001000000777;

#[derive(Clone, Copy, Debug)]
enum Attack {
    /// Bob forwards a message Bob wrote.
    Forward,
    /// Bob forwards a message of an author who hides their account.
    ForwardHidden,
    /// Telegram forwards a linked channel's post into the chat.
    AutomaticForward,
    /// Bob edits an earlier message into the command.
    Edit,
    /// A post in a channel that has the chat's id, signed by Bob.
    ChannelPost,
    /// An edit of such a post.
    EditedChannelPost,
    /// An anonymous admin of the chat, signing as Bob.
    AnonymousAdmin,
    /// A message on behalf of the chat whose `from` is Bob's id.
    OnBehalfOfGroupAsBob,
    /// Someone speaks in the chat as a channel.
    AsChannel,
}

const ATTACKS: [Attack; 9] = [
    Attack::Forward,
    Attack::ForwardHidden,
    Attack::AutomaticForward,
    Attack::Edit,
    Attack::ChannelPost,
    Attack::EditedChannelPost,
    Attack::AnonymousAdmin,
    Attack::OnBehalfOfGroupAsBob,
    Attack::AsChannel,
];

fn launch(world: &World, chat: i64, attack: Attack, text: &str) {
    let tg = &world.tg;
    let bob = (BOB.id, BOB.name);
    match attack {
        Attack::Forward => tg.user_forwards(chat, bob, Some(bob), text),
        Attack::ForwardHidden => tg.user_forwards(chat, bob, None, text),
        Attack::AutomaticForward => tg.channel_forwards_automatically(chat, LINKED_CHANNEL, text),
        Attack::Edit => tg.user_edits(chat, bob, text),
        Attack::ChannelPost => tg.channel_posts(chat, bob, text, false),
        Attack::EditedChannelPost => tg.channel_posts(chat, bob, text, true),
        Attack::AnonymousAdmin => tg.anonymous_admin_says(chat, BOB.name, text),
        Attack::OnBehalfOfGroupAsBob => tg.on_behalf_of_group(chat, bob, text),
        Attack::AsChannel => tg.user_says_as_channel(chat, LINKED_CHANNEL, text),
    }
}

#[tokio::test]
async fn forwards_edits_channel_posts_and_anonymous_messages_are_no_commands() {
    let mut world = World::new().await;
    world.seed().await;
    world.gh.add_release("v1.3.0");
    world.start_bot().await;
    // Both commands would work typed by Bob: 1.3.0 may go to prod.
    world.verified_on_staging("1.3.0").await;
    let whoami = world.say(TEAM_CHAT, &BOB, "/whoami").await;
    assert!(whoami.text.contains(&BOB.id.to_string()), "{}", whoami.text);

    let mut before = snapshot(&world).await;
    let store = world.store().await;
    assert!(store.all_locks().await.unwrap().is_empty());
    let mut audited = store.recent_audit(1000).await.unwrap().len();

    // Telegram lets a group hear 20 messages a minute: the attacks take
    // turns in two chats, or the bot's pacing would outlast the waits.
    let chats = [TEAM_CHAT, ONCALL_CHAT];
    // How many of each chat's messages have been read: all so far.
    let mut read = chats.map(|chat| world.tg.sent_to(chat).len());
    let whoami = format!("Telegram id: <code>{}</code>", BOB.id);
    let mut failures = Vec::new();
    for (i, attack) in ATTACKS.into_iter().enumerate() {
        let (chat, read) = (chats[i % 2], &mut read[i % 2]);
        for text in ["/deploy prod 1.3.0", "/lock prod x"] {
            launch(&world, chat, attack, text);
            // A chat's updates are handled in order: whatever the bot says
            // there before it answers this answered the attack.
            world.tg.user_says(chat, BOB.id, BOB.name, "/whoami");
            loop {
                let said = world.tg.next_message(chat).await.text;
                *read += 1;
                if said.starts_with("👤 ") && said.contains(&whoami) {
                    break;
                }
                failures.push(format!("{attack:?} {text:?} was answered: {said}"));
            }
            // Whatever it set off is out before the next one.
            world
                .until_outbox_sent("the alerts delivered", Duration::from_secs(20))
                .await;
            for said in &world.tg.sent_to(chat)[*read..] {
                failures.push(format!("{attack:?} {text:?} set off: {}", said.text));
                world.tg.next_message(chat).await;
                *read += 1;
            }
            let after = snapshot(&world).await;
            if after != before {
                failures.push(format!(
                    "{attack:?} {text:?} changed:\n{}",
                    before.diff(&after)
                ));
                // Later ones are judged against what they found.
                before = after;
            }
            // Only the /whoami left an audit line.
            let lines = store.recent_audit(1000).await.unwrap();
            let new: Vec<_> = lines[audited..]
                .iter()
                .map(|l| format!("{} {}", l.action, l.outcome))
                .filter(|l| !l.starts_with("command:/whoami "))
                .collect();
            if !new.is_empty() {
                failures.push(format!("{attack:?} {text:?} was audited: {new:?}"));
            }
            audited = lines.len();
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

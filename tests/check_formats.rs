//! Reading histories: the EDN operation maps of Knossos and Porcupine, Jepsen log lines, Synod's JSON.

use std::path::Path;

use synod::check::{
    check_history_file, parse_history, CheckOutcome, FormatError, History, HistoryFormat, OpId, Outcome,
};
use synod::kv::{KvCommand, KvOutput};

fn edn(text: &str) -> Result<History, FormatError> {
    parse_history(HistoryFormat::Edn, text)
}

fn jepsen(text: &str) -> Result<History, FormatError> {
    parse_history(HistoryFormat::JepsenLog, text)
}

#[track_caller]
fn assert_error(result: Result<History, FormatError>, line: usize, mentions: &str) {
    let error = result.expect_err("the text should not parse");
    assert_eq!(error.line, Some(line), "{error}");
    assert!(error.message.contains(mentions), "{error}");
    assert!(error.to_string().starts_with(&format!("line {line}: ")), "{error}");
}

fn completed(at: u64, output: KvOutput) -> Outcome {
    Outcome::Completed { at, output }
}

#[test]
fn porcupine_kv_lines_become_operations_timed_by_line() {
    let history = edn(concat!(
        "{:process 0, :type :invoke, :f :put, :key \"k\", :value \"v\"}\n",
        "{:process 1, :type :invoke, :f :get, :key \"k\", :value nil}\n",
        "{:process 0, :type :ok, :f :put, :key \"k\", :value \"v\"}\n",
        "{:process 1, :type :ok, :f :get, :key \"k\", :value \"v\"}\n",
        "\n",
        "{:process 2, :type :invoke, :f :append, :key \"k\", :value \"w\"}\n",
        "{:process 2, :type :ok, :f :append, :key \"k\", :value \"w\"}\n",
    ))
    .unwrap();
    let operations = history.operations();
    assert_eq!(operations.len(), 3);
    assert_eq!(operations[0].command, KvCommand::Put { key: "k".into(), value: "v".into() });
    assert_eq!((operations[0].client, operations[0].invoke), (0, 1));
    assert_eq!(operations[0].outcome, completed(3, KvOutput::Ok));
    assert_eq!(operations[1].command, KvCommand::Get { key: "k".into() });
    assert_eq!(operations[1].outcome, completed(4, KvOutput::Value(Some("v".into()))));
    assert_eq!(operations[2].command, KvCommand::Append { key: "k".into(), value: "w".into() });
    assert_eq!((operations[2].invoke, operations[2].response_time()), (6, Some(7)));
}

#[test]
fn empty_strings_and_nil_mean_absent_as_in_porcupines_model() {
    let history = edn(concat!(
        "{:process 0, :type :invoke, :f :get, :key \"k\", :value nil}\n",
        "{:process 0, :type :ok, :f :get, :key \"k\", :value \"\"}\n",
        "{:process 0, :type :invoke, :f :put, :key \"k\", :value \"\"}\n",
        "{:process 0, :type :ok, :f :put, :key \"k\", :value \"\"}\n",
        "{:process 0, :type :invoke, :f :append, :key \"k\", :value \"\"}\n",
        "{:process 0, :type :ok, :f :append, :key \"k\", :value \"\"}\n",
        "{:process 0, :type :invoke, :f :get, :key \"k\", :value nil}\n",
        "{:process 0, :type :ok, :f :get, :key \"k\", :value nil}\n",
    ))
    .unwrap();
    let commands: Vec<&KvCommand> = history.operations().iter().map(|operation| &operation.command).collect();
    assert_eq!(
        commands,
        [
            &KvCommand::Get { key: "k".into() },
            &KvCommand::Delete { key: "k".into() },
            &KvCommand::Get { key: "k".into() }
        ],
        "putting \"\" deletes; appending \"\" is dropped"
    );
    assert_eq!(history.operations()[0].output(), Some(&KvOutput::Value(None)));
    assert_eq!(history.operations()[2].output(), Some(&KvOutput::Value(None)));
}

#[test]
fn knossos_registers_with_fail_info_and_a_nemesis() {
    let history = edn(concat!(
        "[{:process 0, :type :invoke, :f :write, :value 1, :time 5}\n",
        " {:process :nemesis, :type :info, :f :start, :value nil}\n",
        " {:process 0, :type :info, :f :write, :value 1}\n",
        " {:process 1, :type :invoke, :f :cas, :value [1 2]}\n",
        " {:process 1, :type :fail, :f :cas, :value [1 2]}\n",
        " {:process 0, :type :invoke, :f :read, :value nil}\n",
        " {:process 0, :type :ok, :f :read, :value 1}\n",
        " {:process 1, :type :invoke, :f :cas, :value [nil 3]}]\n",
    ))
    .unwrap();
    let operations = history.operations();
    assert_eq!(operations.len(), 4);
    assert_eq!(operations[0].command, KvCommand::Put { key: "register".into(), value: "1".into() });
    assert_eq!(operations[0].outcome, Outcome::Indeterminate);
    assert_eq!(
        operations[1].command,
        KvCommand::Cas { key: "register".into(), expected: Some("1".into()), new: "2".into() }
    );
    assert_eq!(operations[1].outcome, Outcome::Failed { at: 5 });
    assert_ne!(operations[2].client, 0, "process 0 crashed (:info), so its next operation is a new client");
    assert_eq!(operations[2].outcome, completed(7, KvOutput::Value(Some("1".into()))));
    assert_eq!(operations[3].command, KvCommand::Cas { key: "register".into(), expected: None, new: "3".into() });
    assert_eq!(operations[3].outcome, Outcome::Indeterminate, "still open at the end of the file");
}

#[test]
fn a_map_may_span_lines_and_is_timed_by_its_first() {
    let history = edn(concat!(
        "{:process 0,\n :type :invoke,\n :f :get, :key \"k\"}\n",
        "{:process 0, :type :ok, :f :get, :key \"k\", :value \"1\"}",
    ))
    .unwrap();
    assert_eq!(history.operations()[0].invoke, 1);
    assert_eq!(history.operations()[0].response_time(), Some(4));
}

#[test]
fn edn_errors_name_the_line() {
    assert_error(edn("{:process 0, :type :invoke, :f :get, :key \"k\"}\n{:type :ok, :f :get}"), 2, "no :process");
    assert_error(edn("\n{:process 0, :type :begin, :f :get}"), 2, ":invoke, :ok, :fail or :info");
    assert_error(edn("{:process 0, :type :invoke, :f :frobnicate}"), 1, "unknown operation :frobnicate");
    assert_error(edn("{:process 0, :type :ok, :f :get, :value 1}"), 1, "without an :invoke");
    assert_error(
        edn("{:process 0, :type :invoke, :f :get}\n{:process 0, :type :invoke, :f :put, :value 1}"),
        2,
        "while its :get from line 1 has not finished",
    );
    assert_error(
        edn("{:process 0, :type :invoke, :f :get}\n{:process 0, :type :ok, :f :put}"),
        2,
        "invoked :get on line 1",
    );
    assert_error(edn("{:process 0, :type :invoke, :f :cas, :value 5}"), 1, "a cas needs `[expected new]`");
    assert_error(edn("{:process 0, :type :invoke,\n :f :get"), 1, "never closed");
    assert_error(edn("[{:process 0, :type :invoke, :f :get}\n"), 2, "never closed");
    assert_error(edn("{:process 0, :type :invoke, :f :put, :value 1.5}"), 1, "not a supported number");
    assert_error(edn("\n\n:get"), 3, "expected an operation map");
}

#[test]
fn jepsen_log_lines_become_operations() {
    let history = jepsen(concat!(
        "INFO  jepsen.core - Running test\n",
        "INFO  jepsen.util - 3\t:invoke\t:read\tnil\n",
        "INFO  jepsen.util - 4   :invoke :cas    [1 4]\n",
        "INFO  jepsen.util - 3\t:ok\t:read\t1\n",
        "INFO  jepsen.util - 4\t:fail\t:cas\t[1 4]\n",
        "INFO  jepsen.util - :nemesis\t:info\t:start\tnil\n",
        "INFO  jepsen.util - 5\t:invoke\t:write\t2\n",
        "INFO  jepsen.util - 5\t:info\t:write\t:timed-out\n",
        "INFO  jepsen.util - 5\t:invoke\t:read\tnil\n",
        "INFO  jepsen.util - 5\t:fail\t:read\t:timed-out\n",
    ))
    .unwrap();
    let operations = history.operations();
    assert_eq!(operations.len(), 4);
    assert_eq!(operations[0].command, KvCommand::Get { key: "register".into() });
    assert_eq!((operations[0].client, operations[0].invoke), (3, 2));
    assert_eq!(operations[0].outcome, completed(4, KvOutput::Value(Some("1".into()))));
    assert_eq!(
        operations[1].command,
        KvCommand::Cas { key: "register".into(), expected: Some("1".into()), new: "4".into() }
    );
    assert_eq!(operations[1].outcome, Outcome::Failed { at: 5 });
    assert_eq!(operations[2].command, KvCommand::Put { key: "register".into(), value: "2".into() });
    assert_eq!(operations[2].outcome, Outcome::Indeterminate);
    assert_ne!(operations[3].client, operations[2].client, "a process that reported :info comes back as a new client");
    assert_eq!(operations[3].outcome, Outcome::Failed { at: 10 });
}

#[test]
fn jepsen_log_errors_name_the_line() {
    let good = "INFO  jepsen.util - 0\t:invoke\t:read\tnil\n";
    assert_error(jepsen(&format!("{good}INFO  jepsen.util - x1\t:ok\t:read\tnil")), 2, "expected a process number");
    assert_error(jepsen(&format!("{good}INFO  jepsen.util - 0\t:done\t:read\tnil")), 2, ":invoke, :ok, :fail or :info");
    assert_error(jepsen(&format!("{good}INFO  jepsen.util - 0\t:ok\t:read\t[1")), 2, "never closed");
    assert_error(
        jepsen(&format!("{good}INFO  jepsen.util - 0\t:ok\t:read\t1 2")),
        2,
        "unexpected text after the value",
    );
    assert_error(jepsen(&format!("{good}INFO  jepsen.util - 1\t:ok\t:read\t1")), 2, "without an :invoke");
    assert_error(
        jepsen(&format!("{good}INFO  jepsen.util - 0\t:ok\t:read\t[1 2]")),
        2,
        "expected a string, number or nil",
    );
    assert_error(jepsen("just some text\nand more"), 1, "is this a Jepsen log?");
    assert!(jepsen("").unwrap().is_empty());
}

#[test]
fn json_histories_round_trip_and_are_validated() {
    let mut history = History::new();
    let op = history.invoke(1, KvCommand::Get { key: "k".into() }, 0);
    history.complete(op, KvOutput::Value(None), 1);
    let text = serde_json::to_string_pretty(&history).unwrap();
    assert_eq!(parse_history(HistoryFormat::Json, &text).unwrap(), history);
    assert!(parse_history(HistoryFormat::Json, "{\"operations\": [").unwrap_err().line.is_some());
    let renumbered = text.replace("\"id\": 0", "\"id\": 3");
    let error = parse_history(HistoryFormat::Json, &renumbered).unwrap_err();
    assert!(error.message.contains("ids must count up"), "{error}");
    assert_eq!(op, OpId(0));
}

#[test]
fn formats_are_named_and_detected() {
    assert_eq!("knossos".parse::<HistoryFormat>(), Ok(HistoryFormat::Edn));
    assert_eq!("etcd".parse::<HistoryFormat>(), Ok(HistoryFormat::JepsenLog));
    assert_eq!("JSON".parse::<HistoryFormat>(), Ok(HistoryFormat::Json));
    assert!("yaml".parse::<HistoryFormat>().unwrap_err().contains("expected one of"));
    assert_eq!(HistoryFormat::detect("{:process 0, :type :invoke}"), Some(HistoryFormat::Edn));
    assert_eq!(HistoryFormat::detect("; comment\n[{:process 0, :type :invoke}]"), Some(HistoryFormat::Edn));
    assert_eq!(HistoryFormat::detect("INFO  jepsen.util - 0\t:invoke\t:read\tnil"), Some(HistoryFormat::JepsenLog));
    assert_eq!(HistoryFormat::detect("{\"operations\": []}"), Some(HistoryFormat::Json));
    assert_eq!(HistoryFormat::detect("hello"), None);
}

#[test]
fn the_files_under_tests_data_get_the_verdicts_their_names_say() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/histories");
    let mut checked = 0;
    for (directory, format) in [("edn", HistoryFormat::Edn), ("jepsen", HistoryFormat::JepsenLog)] {
        for entry in std::fs::read_dir(root.join(directory)).unwrap() {
            let path = entry.unwrap().path();
            let text = std::fs::read_to_string(&path).unwrap();
            assert_eq!(HistoryFormat::detect(&text), Some(format), "{}", path.display());
            let outcome =
                check_history_file(format, &text).unwrap_or_else(|error| panic!("{}: {error}", path.display()));
            let expected = path.file_stem().unwrap().to_str().unwrap().ends_with("-ok");
            assert_eq!(outcome.is_linearizable(), expected, "{}: {outcome}", path.display());
            checked += 1;
        }
    }
    assert_eq!(checked, 5);
}

#[test]
fn explanations_point_at_lines_of_the_file() {
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/histories/jepsen/etcd-style-bad.log"),
    )
    .unwrap();
    let CheckOutcome::NotLinearizable { key, explanation } =
        check_history_file(HistoryFormat::JepsenLog, &text).unwrap()
    else {
        panic!("the file is not linearizable");
    };
    assert_eq!(key, "register");
    let text = explanation.to_string();
    assert!(text.contains("#1 client 1: cas register: 1→2 → swapped (t=3..4)"), "{text}");
    assert!(text.contains("#2 client 2: get register → \"1\" (t=5..6)"), "{text}");
}

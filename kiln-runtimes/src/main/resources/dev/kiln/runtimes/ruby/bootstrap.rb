# Kiln's bootstrap for the Ruby runtimes (ruby3.2 - ruby3.4): Kiln's own, written for Kiln.
#
# It loads the file of the handler named by _HANDLER from LAMBDA_TASK_ROOT ("file.method" or
# "file.Module::Class.method"), then loops: take the next event from the Runtime API, call the
# handler with event: and context:, post the result (an IO's content, or else JSON) or the error
# document AWS's Ruby runtime posts ({"errorMessage", "errorType": "Function<Class>",
# "stackTrace"}). Anything that goes wrong while loading is an init error, "Init<Class>", posted to
# /init/error before exiting.
require 'json'
require 'net/http'
require 'stringio'
require 'time'

$stdout.sync = true
$stderr.sync = true

# Nothing of the host's own Ruby libraries beyond Ruby's: site_ruby (/usr/local) is where local
# installs go, and is not in Lambda's runtime. (Host gems are hidden by GEM_HOME and GEM_PATH,
# which Kiln sets to the function's and its layers' gem directories.)
$LOAD_PATH.reject! { |dir| dir.include?('/site_ruby') }

API = ENV.fetch('AWS_LAMBDA_RUNTIME_API')
HOST, PORT = API.split(':')
BASE = '/2018-06-01/runtime'

HTTP = Net::HTTP.new(HOST, PORT.to_i)
HTTP.read_timeout = nil
HTTP.keep_alive_timeout = 3600
HTTP.start

def post(path, body, headers = {})
  request = Net::HTTP::Post.new(BASE + path, { 'Content-Type' => 'application/json' }.merge(headers))
  request.body = body
  HTTP.request(request)
end

BOOTSTRAP_FILE = File.expand_path(__FILE__)

# The error classes whose names AWS's runtime puts in the Lambda-Runtime-Function-Error-Type
# header; any other is reported there as Function<UserException> (the document names it).
REPORTED_CLASSES = %w[ArgumentError NoMethodError Exception StandardError NameError LoadError
                      SystemExit SystemStackError].freeze

# The error document AWS's Ruby runtime posts; the trace ends where this bootstrap's frames begin.
def error_document(error, prefix)
  trace = (error.backtrace || []).first(100).take_while { |line| !line.start_with?(BOOTSTRAP_FILE) }
  {
    'errorMessage' => error.message,
    'errorType' => "#{prefix}<#{error.class}>",
    'stackTrace' => trace
  }
end

def error_header(error, prefix)
  REPORTED_CLASSES.include?(error.class.to_s) ? "#{prefix}<#{error.class}>" : "#{prefix}<UserException>"
end

# What a Ruby handler receives as context:, as AWS's runtime shapes it.
class LambdaContext
  attr_reader :function_name, :function_version, :invoked_function_arn, :memory_limit_in_mb,
              :aws_request_id, :log_group_name, :log_stream_name, :deadline_ms, :identity,
              :client_context

  def initialize(headers)
    @function_name = ENV['AWS_LAMBDA_FUNCTION_NAME']
    @function_version = ENV['AWS_LAMBDA_FUNCTION_VERSION']
    @memory_limit_in_mb = ENV['AWS_LAMBDA_FUNCTION_MEMORY_SIZE']
    @log_group_name = ENV['AWS_LAMBDA_LOG_GROUP_NAME']
    @log_stream_name = ENV['AWS_LAMBDA_LOG_STREAM_NAME']
    @aws_request_id = headers['lambda-runtime-aws-request-id']
    @invoked_function_arn = headers['lambda-runtime-invoked-function-arn']
    @deadline_ms = headers['lambda-runtime-deadline-ms'].to_i
    client_context = headers['lambda-runtime-client-context']
    @client_context = client_context ? JSON.parse(client_context) : nil
    identity = headers['lambda-runtime-cognito-identity']
    @identity = identity ? JSON.parse(identity) : nil
  end

  def get_remaining_time_in_millis
    [@deadline_ms - (Time.now.to_f * 1000).to_i, 0].max
  end
end

# The handler named by _HANDLER: "file.method" (a method defined at the top of file.rb) or
# "file.Class.method" (a class-level method; Class may be namespaced, Jobs::Worker). As in AWS's
# runtime, only the file is loaded at init; the class and the method are looked up at every call,
# so a missing one is the invocation's error (Function<NameError>, Function<NoMethodError>).
class LambdaHandler
  def initialize(handler)
    parts = handler.split('.')
    case parts.size
    when 2 then @file, @method = parts
    when 3 then @file, @class_name, @method = parts
    else
      raise ArgumentError, "Invalid handler #{parts}, must be of form FILENAME.METHOD or " \
                           'FILENAME.CLASS.METHOD where FILENAME corresponds with an existing Ruby ' \
                           'source file FILENAME.rb, CLASS is an optional module/class namespace ' \
                           'and METHOD is a callable method. If using CLASS, METHOD must be a ' \
                           'class-level method.'
    end
  end

  def load(task_root)
    $LOAD_PATH.unshift(task_root) unless $LOAD_PATH.include?(task_root)
    require File.join(task_root, @file)
  end

  def call(event, context)
    if @class_name
      Kernel.const_get(@class_name).send(@method, event: event, context: context)
    else
      # a method defined at the top of a file is a private method of main
      TOPLEVEL_BINDING.receiver.__send__(@method, event: event, context: context)
    end
  end
end

# The response body: an IO's (a File's, a StringIO's) content as it is, anything else as JSON.
def response_body(result)
  case result
  when IO, StringIO then result.read
  else result.to_json
  end
end

begin
  HANDLER = LambdaHandler.new(ENV.fetch('_HANDLER'))
  HANDLER.load(ENV.fetch('LAMBDA_TASK_ROOT'))
rescue Exception => e # rubocop:disable Lint/RescueException
  warn "Init error when loading handler #{ENV['_HANDLER']}: #{e.class}: #{e.message}"
  post('/init/error', JSON.generate(error_document(e, 'Init')),
       'Lambda-Runtime-Function-Error-Type' => error_header(e, 'Init'))
  exit 1
end

loop do
  response = HTTP.request(Net::HTTP::Get.new(BASE + '/invocation/next'))
  headers = response.each_header.to_h
  request_id = headers['lambda-runtime-aws-request-id']
  # the X-Ray trace header of this invocation, where the AWS SDK and X-Ray look for it
  if headers['lambda-runtime-trace-id']
    ENV['_X_AMZN_TRACE_ID'] = headers['lambda-runtime-trace-id']
  else
    ENV.delete('_X_AMZN_TRACE_ID')
  end
  context = LambdaContext.new(headers)
  begin
    event = response.body.nil? || response.body.empty? ? nil : JSON.parse(response.body)
    body = response_body(HANDLER.call(event, context))
    post("/invocation/#{request_id}/response", body)
  rescue Exception => e # rubocop:disable Lint/RescueException
    warn "Error raised from handler method: #{e.class}: #{e.message}"
    post("/invocation/#{request_id}/error", JSON.generate(error_document(e, 'Function')),
         'Lambda-Runtime-Function-Error-Type' => error_header(e, 'Function'))
  end
end
